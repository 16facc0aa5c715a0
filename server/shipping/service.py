"""The process-wide spool and flusher, built once from settings."""

from __future__ import annotations

import threading

from django.conf import settings

from shipping.flusher import Flusher
from shipping.sinks import ClickHouseSink, Sink, VectorSink
from shipping.spool import Spool

_lock = threading.RLock()  # get_flusher() builds the spool while holding it
_spool: Spool | None = None
_flusher: Flusher | None = None


def get_spool() -> Spool:
    global _spool
    if _spool is None:
        with _lock:
            if _spool is None:
                _spool = Spool(
                    settings.SPOOL_PATH,
                    synchronous=settings.SPOOL_SYNCHRONOUS,
                    max_entry_rows=settings.SHIP_BATCH_SIZE,
                )
    return _spool


def build_sink() -> Sink:
    if settings.VECTOR_URL:
        return VectorSink(settings.VECTOR_URL, settings.VECTOR_TIMEOUT_SECONDS)
    return ClickHouseSink()


def get_flusher() -> Flusher:
    global _flusher
    if _flusher is None:
        with _lock:
            if _flusher is None:
                _flusher = Flusher(
                    get_spool(),
                    build_sink(),
                    batch_size=settings.SHIP_BATCH_SIZE,
                    interval=settings.SHIP_FLUSH_INTERVAL_SECONDS,
                    max_backoff=settings.SHIP_RETRY_MAX_BACKOFF_SECONDS,
                    lease_seconds=settings.SHIP_LEASE_SECONDS,
                    batch_bytes=settings.SHIP_BATCH_MAX_BYTES,
                )
    return _flusher


def reset() -> None:
    """Forget the singletons (tests switch spool paths and sinks)."""
    global _spool, _flusher
    with _lock:
        if _flusher is not None:
            _flusher.stop(drain_timeout=0)
        if _spool is not None:
            _spool.close()
        _spool, _flusher = None, None
