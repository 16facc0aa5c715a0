"""The pipeline's state in the Prometheus text format, read from the spool at scrape time.

A collector rather than counters kept in memory: the numbers live in the spool file (updated in
the transactions that ship, retry and quarantine), so every gunicorn worker answers the same
figures and a restart does not reset them.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from shipping.health import REASONS, pipeline_state
from shipping.refusals import error_kind

PREFIX = "analytics_shipping"


class PipelineCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        state = pipeline_state()
        stats = state.stats
        yield _gauge("spool_depth_rows", "Rows in the spool, not yet confirmed by the sink.", stats.depth)
        yield _gauge(
            "oldest_unshipped_age_seconds",
            "Age of the oldest row in the spool (0 when it is empty).",
            state.oldest_age_seconds or 0.0,
        )
        yield _gauge("failing_batches", "Batches whose last attempt failed.", stats.failing_batches)
        yield _gauge("quarantined_rows", "Rows ClickHouse refused, kept for replay.", stats.quarantined_rows)
        yield _gauge("stuck", "1 when shipping is stuck (/healthz answers 503).", state.status == "stuck")
        reasons = GaugeMetricFamily(
            f"{PREFIX}_problem", "1 for each reason the pipeline is not ok.", labels=["reason"]
        )
        for reason in REASONS:
            reasons.add_metric([reason], reason in state.reasons)
        yield reasons
        for name, help_text in (
            ("batches_shipped", "Batches confirmed by the sink."),
            ("rows_shipped", "Rows confirmed by the sink."),
            ("batches_retried", "Attempts that failed transiently and were scheduled again."),
            ("batches_split", "Refused batch ranges split to isolate the refused rows."),
            ("batches_quarantining", "Shipped batches of which some rows went to the quarantine."),
            ("rows_quarantined", "Rows moved to the quarantine."),
            ("rows_replayed", "Quarantined rows put back into the spool."),
        ):
            # The name without _total: prometheus_client adds it to counters.
            yield CounterMetricFamily(f"{PREFIX}_{name}", help_text, value=stats.counters.get(name, 0))
        error = GaugeMetricFamily(
            f"{PREFIX}_last_error_info",
            "1 while a batch is failing, labelled with the kind of its last error (the text, which may"
            " quote event data, is in /api/server/health).",
            labels=["kind"],
        )
        if stats.last_batch_error:
            error.add_metric([error_kind(stats.last_batch_error)], 1)
        yield error


def _gauge(name: str, help_text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", help_text, value=value)


def build_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PipelineCollector())
    return registry
