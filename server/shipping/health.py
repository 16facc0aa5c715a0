"""The pipeline's state, and the one verdict on it that health, /healthz and the metrics share.

`stuck` (HTTP 503 on /healthz): the last attempt to ship a batch failed (the sink is down, or
refusing), or the oldest unshipped row is older than SHIP_STALE_AFTER_SECONDS. Either shows within
one flush interval of the failure. `degraded` (still 200): rows sit in the quarantine, waiting for
an operator (manage.py shipping_quarantine).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings

from shipping.service import get_flusher, get_spool
from shipping.spool import SpoolStats

# Reason words, the same on every surface (health, /healthz, the metric's label).
SHIPPING_FAILING = "shipping_failing"
SPOOL_STALE = "spool_stale"
ROWS_QUARANTINED = "rows_quarantined"
STUCK_REASONS = (SHIPPING_FAILING, SPOOL_STALE)
REASONS = (*STUCK_REASONS, ROWS_QUARANTINED)


@dataclass(frozen=True, slots=True)
class PipelineState:
    stats: SpoolStats
    oldest_age_seconds: float | None
    reasons: tuple[str, ...]

    @property
    def status(self) -> str:
        if any(reason in STUCK_REASONS for reason in self.reasons):
            return "stuck"
        return "degraded" if self.reasons else "ok"


def pipeline_state() -> PipelineState:
    stats = get_spool().stats()
    age = None if stats.oldest_created_at is None else max(0.0, time.time() - stats.oldest_created_at)
    reasons = []
    if stats.failing_batches:
        reasons.append(SHIPPING_FAILING)
    if age is not None and age >= settings.SHIP_STALE_AFTER_SECONDS:
        reasons.append(SPOOL_STALE)
    if stats.quarantined_rows:
        reasons.append(ROWS_QUARANTINED)
    return PipelineState(stats, age, tuple(reasons))


def pipeline_health() -> dict:
    """Everything an instance admin needs to see what shipping is doing."""
    state = pipeline_state()
    stats = state.stats
    flusher = get_flusher()
    return {
        "status": state.status,
        "reasons": list(state.reasons),
        "sink": flusher.sink.name,
        "spool": {
            "depth": stats.depth,
            "oldest_unshipped_age_seconds": None
            if state.oldest_age_seconds is None
            else round(state.oldest_age_seconds, 3),
            "batches_in_flight": stats.batches_in_flight,
            "failing_batches": stats.failing_batches,
            "quarantined_rows": stats.quarantined_rows,
        },
        "shipping": {
            "running": flusher.is_running,
            "shipped_rows": flusher.state.shipped_rows,
            "failed_attempts": flusher.state.failed_attempts,
            "last_success_at": flusher.state.last_success_at,
            "last_error": flusher.state.last_error or stats.last_batch_error,
            "last_error_at": flusher.state.last_error_at,
        },
        # Since the spool file was created, across restarts and every process that ships it.
        "totals": stats.counters,
    }
