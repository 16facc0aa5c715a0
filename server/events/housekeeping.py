"""Periodic clean-up owned by the server process: idempotency records past their TTL (kept in the
spool file, next to the batches they answer for)."""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections

from shipping.service import get_spool

log = logging.getLogger("events.housekeeping")


def purge_idempotency_records() -> int:
    return get_spool().purge_keys(time.time() - settings.IDEMPOTENCY_KEY_TTL_HOURS * 3600)


def start_housekeeping(interval_seconds: float = 600.0) -> threading.Thread:
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval_seconds):
            try:
                deleted = purge_idempotency_records()
                if deleted:
                    log.info(
                        "purged %d idempotency records older than %sh",
                        deleted,
                        settings.IDEMPOTENCY_KEY_TTL_HOURS,
                    )
            except Exception:
                log.exception("housekeeping failed")
            finally:
                close_old_connections()

    thread = threading.Thread(target=loop, name="housekeeping", daemon=True)
    thread.start()
    return thread
