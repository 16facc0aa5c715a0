"""The grafana-clickhouse-datasource query model for grafana-foundation-sdk, which has no
ClickHouse builder: a `Dataquery` subclass that serializes to the plugin's target JSON, plus the
panel and variable helpers every dashboard uses."""

from __future__ import annotations

import warnings
from typing import Any, Literal

with warnings.catch_warnings():
    # The SDK warns at import that the v1 dashboard schema has a v2 successor; Grafana 12 (and the
    # file provisioner) read v1, which is what we generate.
    warnings.simplefilter("ignore", DeprecationWarning)
    from grafana_foundation_sdk.builders import barchart, common, dashboard, stat, table, timeseries
    from grafana_foundation_sdk.cog import builder as cogbuilder
    from grafana_foundation_sdk.cog import variants as cogvariants
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.models import common as common_models
    from grafana_foundation_sdk.models import dashboard as models
    from grafana_foundation_sdk.models.common import DataSourceRef

from generator.sql import ID_ALL, ORG_VARIABLE, TEXT_ALL

__all__ = ["JSONEncoder"]

PLUGIN_ID = "grafana-clickhouse-datasource"
PLUGIN_VERSION = "4.20.0"
# Fixed in grafana/provisioning/datasources/clickhouse.yaml: renaming the datasource never breaks
# a panel (CVAT's dashboards use the name-derived uid PDEE91DDB90597936).
DATASOURCE_UID = "clickhouse"
DATASOURCE = DataSourceRef(type_val=PLUGIN_ID, uid=DATASOURCE_UID)

# sqlds `format`: 0 = time series (long rows become one series per string column value), 1 = table.
Format = Literal["time_series", "table"]
_FORMATS = {"time_series": 0, "table": 1}


class ClickHouseQuery(cogvariants.Dataquery):
    """One panel target of the ClickHouse plugin, in raw SQL mode."""

    def __init__(self, ref_id: str, sql: str, fmt: Format) -> None:
        self.ref_id = ref_id
        self.sql = sql
        self.fmt = fmt

    def to_json(self) -> dict[str, Any]:
        return {
            "refId": self.ref_id,
            "datasource": DATASOURCE.to_json(),
            "editorType": "sql",
            "queryType": "timeseries" if self.fmt == "time_series" else "table",
            "format": _FORMATS[self.fmt],
            "rawSql": self.sql,
            "pluginVersion": PLUGIN_VERSION,
        }


class Query(cogbuilder.Builder[ClickHouseQuery]):
    def __init__(self, sql: str, fmt: Format = "table", ref_id: str = "A") -> None:
        self._query = ClickHouseQuery(ref_id, sql.strip(), fmt)

    def build(self) -> ClickHouseQuery:
        return self._query


def grid(x: int, y: int, w: int, h: int) -> models.GridPos:
    return models.GridPos(h=h, w=w, x=x, y=y)


def _legend() -> common.VizLegendOptions:
    return (
        common.VizLegendOptions()
        .show_legend(True)
        .display_mode(common_models.LegendDisplayMode.LIST)
        .placement(common_models.LegendPlacement.BOTTOM)
    )


def timeseries_panel(
    panel_id: int,
    title: str,
    description: str,
    sql: str,
    pos: models.GridPos,
    *,
    unit: str = "short",
    min_interval: str = "5m",
    decimals: int | None = None,
    bars: bool = False,
    max_data_points: int = 200,
) -> timeseries.Panel:
    """`min_interval` is the panel's minimum `$__interval`: 5m on the 5-minute rollups, so a bucket
    of the chart never splits a rollup bucket; 1d on "per day" panels. `bars` draws stacked bars
    (one per period and series) instead of lines. The y axis starts at 0: every series here is a
    count, a duration or a rate."""
    panel = (
        timeseries.Panel()
        .id(panel_id)
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .with_target(Query(sql, "time_series"))
        .grid_pos(pos)
        .interval(min_interval)
        .unit(unit)
        .min(0)
        .legend(_legend())
        .line_width(1)
        .fill_opacity(80 if bars else 10)
        .span_nulls(False)
    )
    if bars:
        panel = (
            panel.draw_style(common_models.GraphDrawStyle.BARS)
            .stacking(common.StackingConfig().mode(common_models.StackingMode.NORMAL))
            .bar_alignment(common_models.BarAlignment.AFTER)
        )
    # At most ~200 points whatever the screen: 5 min buckets over 12 h, 1 h over 7 days, 3 h
    # over 30 days (Grafana otherwise uses the panel's pixel width, ~1 point per pixel).
    panel = panel.max_data_points(max_data_points)
    return panel.decimals(decimals) if decimals is not None else panel


def table_panel(
    panel_id: int,
    title: str,
    description: str,
    sql: str,
    pos: models.GridPos,
    *,
    units: dict[str, tuple[str, int | None]] | None = None,
    min_interval: str | None = None,
    max_data_points: int | None = None,
) -> table.Panel:
    """`units`: column -> (Grafana unit, decimals), as field overrides (hours, percentages...).
    `min_interval`/`max_data_points` only matter to tables grouped by `$__interval_s` periods,
    which must cut the same periods as their chart."""
    panel = (
        table.Panel()
        .id(panel_id)
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .with_target(Query(sql, "table"))
        .grid_pos(pos)
        .filterable(True)
    )
    for column, (unit, decimals) in (units or {}).items():
        properties = [models.DynamicConfigValue(id_val="unit", value=unit)]
        if decimals is not None:
            properties.append(models.DynamicConfigValue(id_val="decimals", value=decimals))
        panel = panel.override_by_name(column, properties)
    if min_interval is not None:
        panel = panel.interval(min_interval)
    if max_data_points is not None:
        panel = panel.max_data_points(max_data_points)
    return panel


def stat_panel(
    panel_id: int,
    title: str,
    description: str,
    sql: str,
    pos: models.GridPos,
    *,
    unit: str = "short",
    decimals: int | None = None,
    no_value: str = "0",
) -> stat.Panel:
    """`no_value` is shown when the query gives NULL: 0 for counts and sums, a dash for ratios
    (a rate over nothing is not 0)."""
    panel = (
        stat.Panel()
        .id(panel_id)
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .with_target(Query(sql, "table"))
        .grid_pos(pos)
        .unit(unit)
        .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .no_value(no_value)
        .graph_mode(common_models.BigValueGraphMode.NONE)
    )
    return panel.decimals(decimals) if decimals is not None else panel


def barchart_panel(
    panel_id: int,
    title: str,
    description: str,
    sql: str,
    pos: models.GridPos,
    *,
    x_field: str,
    unit: str = "short",
) -> barchart.Panel:
    return (
        barchart.Panel()
        .id(panel_id)
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .with_target(Query(sql, "table"))
        .grid_pos(pos)
        .x_field(x_field)
        .unit(unit)
        .legend(_legend())
        .orientation(common_models.VizOrientation.HORIZONTAL)
        .show_value(common_models.VisibilityMode.AUTO)
    )


def id_variable(name: str, label: str, sql: str) -> dashboard.QueryVariable:
    """A multi-value id variable: options `(id, label)` from `sql`, All = custom all value -1."""
    return _query_variable(name, label, sql, ID_ALL)


def text_variable(name: str, label: str, sql: str) -> dashboard.QueryVariable:
    """A multi-value text variable, All = custom all value '__all__' (quotes included)."""
    return _query_variable(name, label, sql, TEXT_ALL)


def _query_variable(name: str, label: str, sql: str, all_value: str) -> dashboard.QueryVariable:
    sql = sql.strip()
    return (
        dashboard.QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query(sql)
        .definition(sql)
        .multi(True)
        .include_all(True)
        .all_value(all_value)
        .allow_custom_value(False)
        .refresh(models.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(models.VariableSort.DISABLED)
        .current(models.VariableOption(selected=True, text="All", value="$__all"))
    )


def org_ids_variable() -> dashboard.CustomVariable:
    """The hidden organization restriction: always All in Grafana (its users are instance
    analysts); the server's pages force it to the viewer's organizations."""
    return (
        dashboard.CustomVariable(ORG_VARIABLE)
        .label("Organizations visible to the viewer")
        .description("Set by the server for its own pages; All in Grafana.")
        .hide(models.VariableHide.HIDE_VARIABLE)
        .values("")
        .multi(True)
        .include_all(True)
        .all_value(ID_ALL)
        .allow_custom_value(False)
        .current(models.VariableOption(selected=True, text="All", value="$__all"))
    )


def new_dashboard(uid: str, title: str, description: str, tags: list[str]) -> dashboard.Dashboard:
    return (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["annotation-analytics", *tags])
        .time("now-7d", "now")
        .timezone("utc")
        .refresh("")
        .readonly()
        .tooltip(models.DashboardCursorSync.CROSSHAIR)
    )
