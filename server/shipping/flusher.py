"""The background flusher: spool -> sink, in batches, with retries and backoff.

A failure the sink may get over (down, timeout) retries the same batch with the same token. A
refusal of the data (shipping.refusals) isolates the rows at fault: the batch is split in halves,
recursively, each half sent with the token of its own rows, until the refused rows stand alone;
they go to the quarantine and every other row is stored. A refused range is recorded in the spool
before its halves are sent and is never sent again, so after a crash the retry takes the same
path and no row reaches ClickHouse under two tokens.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from shipping.refusals import describe, is_refusal
from shipping.sinks import Sink
from shipping.spool import Batch, Spool, batch_token

log = logging.getLogger("shipping")


@dataclass
class FlusherState:
    last_success_at: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    shipped_rows: int = 0
    failed_attempts: int = 0
    quarantined_rows: int = 0


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
        batch_bytes: int | None = None,
    ) -> None:
        self.spool = spool
        self.sink = sink
        self.batch_size = batch_size
        self.interval = interval
        self.max_backoff = max_backoff
        self.lease_seconds = lease_seconds
        self.batch_bytes = batch_bytes
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
        batch = self.spool.claim(self.batch_size, self.lease_seconds, self.batch_bytes)
        if batch is None:
            return 0, False
        try:
            quarantined = self._deliver(batch, batch.rows, 0, batch.row_count, batch.token, batch.payload)
        except Exception as exc:  # the sink's failure: keep the rows, retry the same batch later
            message = describe(exc)
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
        self.spool.ack(batch, quarantined)
        self.state.last_success_at = time.time()
        stored = batch.row_count - len(quarantined)
        self.state.shipped_rows += stored
        if quarantined:
            self.state.quarantined_rows += len(quarantined)
            self.state.last_error, self.state.last_error_at = quarantined[-1][1], time.time()
            log.error(
                "%s refused %d of %d rows of batch %s for good; they are in the quarantine"
                " (manage.py shipping_quarantine): %s",
                self.sink.name,
                len(quarantined),
                batch.row_count,
                batch.id,
                quarantined[-1][1],
            )
        return stored, batch.more_waiting

    def _deliver(
        self, batch: Batch, rows: list[bytes], start: int, end: int, token: str, payload: bytes
    ) -> list[tuple[bytes, str]]:
        """Send rows[start:end]; the (row, error) pairs refused for good. Raises on a failure that
        is not a refusal (the whole batch is retried later)."""
        if (start, end) not in batch.refused:
            try:
                self.sink.send(payload, token)
                return []
            except Exception as exc:
                if not is_refusal(exc):
                    raise
                if end - start == 1:
                    return [(rows[start], describe(exc))]
                # Durable before any half is sent: a retry after a crash must not send this range whole.
                self.spool.refuse(batch, (start, end), self.lease_seconds)
        middle = (start + end) // 2
        refused = []
        for low, high in ((start, middle), (middle, end)):
            part = rows[low:high]
            refused += self._deliver(batch, rows, low, high, batch_token(part), b"\n".join(part))
        return refused

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
