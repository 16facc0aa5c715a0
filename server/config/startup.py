"""What the serving process starts besides Django: schema check and the event flusher."""

from __future__ import annotations

import atexit
import logging

from django.conf import settings

log = logging.getLogger("startup")


def start_background_services() -> None:
    from events.housekeeping import start_housekeeping
    from exports.worker import start_export_worker
    from shipping.service import get_flusher
    from store.client import describe, get_client
    from store.migrations_runner import migrate

    client = get_client()
    if settings.CLICKHOUSE_MIGRATE_ON_START:
        applied = migrate(client)
        log.info(
            "%s: %d ClickHouse migrations applied at start", describe(settings.CLICKHOUSE_URL), len(applied)
        )
    start_housekeeping()
    start_export_worker()  # a no-op unless EXPORT_WORKER_IN_PROCESS
    if settings.SHIPPING_ENABLED:
        flusher = get_flusher()
        flusher.start()
        atexit.register(flusher.stop)
        log.info(
            "event flusher started: sink=%s batch=%d interval=%.2fs",
            flusher.sink.name,
            flusher.batch_size,
            flusher.interval,
        )
