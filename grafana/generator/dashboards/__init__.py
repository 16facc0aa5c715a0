"""The four dashboards: All Events, Management and Monitoring (every panel CVAT's have, fixed) and
Annotators (per-annotator KPIs from the registry). docs/dashboards.md describes every panel.

Aggregates read the rollup tier that honours any Grafana time range to the bucket (ROLLUP: the
tier analytics.tiers chooses for 5-minute bounds, rollup_5m); the raw
tables (the events list, exceptions) and the numbers a rollup cannot hold (the browser and OS of
`load:cvat` payloads, min/max durations) read `events`.
"""

from generator.dashboards.all_events import all_events
from generator.dashboards.annotators import annotators
from generator.dashboards.management import management
from generator.dashboards.monitoring import monitoring

BUILDERS = {
    "all_events.json": all_events,
    "management.json": management,
    "monitoring.json": monitoring,
    "annotators.json": annotators,
}
