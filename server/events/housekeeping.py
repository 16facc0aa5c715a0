"""Periodic clean-up owned by the server process: idempotency records past their TTL."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from events.models import IdempotencyRecord

log = logging.getLogger("events.housekeeping")


def purge_idempotency_records() -> int:
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_date__lt=cutoff).delete()
    return deleted


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
