"""The Monitoring dashboard's "Event shipping" panel: the server's own pipeline metrics (spool,
oldest unshipped event, quarantine), scraped by Prometheus from GET /api/server/metrics.

Grafana-only: the built-in dashboard pages run ClickHouse SQL and leave panels on other
datasources out (dashboards.catalog); instance admins see the same figures in
GET /api/server/health.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from grafana_foundation_sdk.builders import common, prometheus, timeseries
    from grafana_foundation_sdk.models import common as common_models
    from grafana_foundation_sdk.models import dashboard as models
    from grafana_foundation_sdk.models.common import DataSourceRef

# Fixed in grafana/provisioning/datasources/prometheus.yaml.
DATASOURCE = DataSourceRef(type_val="prometheus", uid="prometheus")

# (PromQL, legend): every name is a metric of server/shipping/metrics.py (tests check it).
SERIES = (
    ("sum(analytics_shipping_spool_depth_rows)", "Rows waiting in the spool"),
    ("max(analytics_shipping_oldest_unshipped_age_seconds)", "Oldest unshipped event (s)"),
    ("sum(analytics_shipping_quarantined_rows)", "Rows in the quarantine"),
    ("sum(rate(analytics_shipping_batches_retried_total[5m])) * 60", "Failed attempts per minute"),
)


def shipping_panel(panel_id: int, pos: models.GridPos) -> timeseries.Panel:
    panel = (
        timeseries.Panel()
        .id(panel_id)
        .title("Event shipping")
        .description(
            "The server's event pipeline, from its Prometheus metrics: rows waiting in the spool, the "
            "age of the oldest one, rows ClickHouse refused (kept in the quarantine for replay) and "
            "failed shipping attempts. Alert rules: grafana/provisioning/alerting/shipping.yaml."
        )
        .datasource(DATASOURCE)
        .grid_pos(pos)
        .unit("short")
        .line_width(1)
        .fill_opacity(10)
        .legend(
            common.VizLegendOptions()
            .show_legend(True)
            .display_mode(common_models.LegendDisplayMode.LIST)
            .placement(common_models.LegendPlacement.BOTTOM)
        )
    )
    for index, (expr, legend) in enumerate(SERIES):
        panel = panel.with_target(
            prometheus.Dataquery()
            .expr(expr)
            .legend_format(legend)
            .ref_id(chr(ord("A") + index))
            .datasource(DATASOURCE)
        )
    return panel
