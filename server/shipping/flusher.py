"""The background flusher: spool -> sink, in batches, with retries and backoff."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from shipping.sinks import Sink
from shipping.spool import Spool

log = logging.getLogger("shipping")


@dataclass
class FlusherState:
    last_success_at: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    shipped_rows: int = 0
    failed_attempts: int = 0


class Flusher:
    def __init__(
        self,
        spool: Spool,
        sink: Sink,
        *,
        batch_size: int,
        interval: float,
        max_backoff: float,
        lease_seconds: float,
    ) -> None:
        self.spool = spool
        self.sink = sink
        self.batch_size = batch_size
        self.interval = interval
        self.max_backoff = max_backoff
        self.lease_seconds = lease_seconds
        self.state = FlusherState()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def backoff(self, attempts: int) -> float:
        return min(self.max_backoff, 0.5 * 2 ** (attempts - 1))

    def ship_once(self) -> int:
        """Ship at most one batch; the number of rows confirmed (0 if none was due or it failed)."""
        return self._ship_next()[0]

    def _ship_next(self) -> tuple[int, bool]:
        """(rows confirmed, whether a full batch is already waiting behind this one)."""
        batch = self.spool.claim(self.batch_size, self.lease_seconds)
        if batch is None:
            return 0, False
        try:
            self.sink.send(batch.payload, batch.token)
        except Exception as exc:  # any failure: keep the rows, retry the same batch later
            message = f"{type(exc).__name__}: {exc}"
            retry_in = self.backoff(batch.attempts)
            self.spool.fail(batch, message, retry_in)
            self.state.last_error, self.state.last_error_at = message, time.time()
            self.state.failed_attempts += 1
            log.warning(
                "shipping to %s failed (batch %s, %d rows, attempt %d), retrying in %.1fs: %s",
                self.sink.name,
                batch.id,
                batch.row_count,
                batch.attempts,
                retry_in,
                message,
            )
            return 0, False
        self.spool.ack(batch)
        self.state.last_success_at = time.time()
        self.state.shipped_rows += batch.row_count
        return batch.row_count, batch.more_waiting

    def drain(self, timeout: float = 30.0) -> int:
        """Ship until the spool is empty or timeout passes; for tests, benchmarks and shutdown."""
        deadline = time.monotonic() + timeout
        shipped = 0
        while time.monotonic() < deadline:
            sent = self.ship_once()
            shipped += sent
            if sent == 0 and self.spool.stats().depth == 0:
                break
            if sent == 0:
                time.sleep(0.05)
        return shipped

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                _, more_waiting = self._ship_next()
            except Exception:  # the spool itself failed: log loudly, keep the thread alive
                log.exception("shipping loop error")
                more_waiting = False
            if not more_waiting:
                # Caught up: wait for more rows or the next tick, so that rows arriving in a
                # trickle are shipped in batches, not one request at a time.
                self._wake.wait(self.interval)
                self._wake.clear()

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="event-flusher", daemon=True)
            self._thread.start()

    def stop(self, drain_timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=drain_timeout + self.interval)
            self._thread = None
        self.drain(timeout=drain_timeout)
