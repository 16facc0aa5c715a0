"""Running a dashboard's panel and variable queries for the built-in pages.

The browser names a dashboard, a panel (or variable), a time range and variable values; the SQL
always comes from the dashboard JSON. It is expanded exactly as Grafana would (dashboards.macros),
with `org_ids` forced to the viewer's organizations, and run with ClickHouse's
`additional_table_filters` limiting the same tables again inside the engine.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import available_timezones

from accounts.privacy import OTHERS_REFUSED, own_rows_user
from accounts.visibility import visible_org_ids
from analytics.errors import AnalyticsError, forbidden, not_found
from config.fields import ascii_int, from_timestamp, parse_iso_timestamp
from dashboards.macros import (
    ALL,
    ORG_VARIABLE,
    MacroError,
    NothingVisible,
    OrgRestriction,
    all_values,
    calculate_interval_seconds,
    dashboard_panels,
    dashboard_variables,
    expand,
)
from events.clock import now
from store.client import database_name, get_client

MAX_ROWS = 5000
MAX_RANGE = timedelta(days=400)
QUERY_SETTINGS = {"max_execution_time": 30, "max_result_rows": MAX_ROWS, "result_overflow_mode": "break"}
_RELATIVE = re.compile(r"^now(?:-([0-9]{1,12})([smhdwMy]))?$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "M": 2_592_000, "y": 31_536_000}


def parse_time(value: Any, field: str, at: datetime | None = None) -> datetime:
    """Grafana's time range forms: `now`, `now-7d` (s m h d w M y), epoch milliseconds, ISO-8601;
    400 naming the field when unreadable or outside the event store's range. Relative forms count
    back from `at` (default: now), so one range's two ends share one `now`."""
    text = str(value).strip()
    match = _RELATIVE.match(text)
    milliseconds = ascii_int(text)
    if match:
        amount, unit = match.groups()
        seconds: float | None = (at or now()).timestamp() - (int(amount) * _UNITS[unit] if amount else 0)
    elif milliseconds is not None:
        seconds = milliseconds / 1000
    else:
        seconds = parse_iso_timestamp(text)
        if seconds is None:
            raise AnalyticsError(
                f"Cannot read {field} {text[:40]!r}: use now, now-7d, epoch ms or ISO-8601.", field=field
            )
    moment = from_timestamp(seconds)
    if moment is None:
        raise AnalyticsError(f"{field} must be between 1970 and 2106.", field=field)
    return moment


# The custom all value of id variables (grafana/generator): their values are ids.
ID_ALL = "-1"


def _is_id(value: str) -> bool:
    return value == ALL or bool(ascii_int(value, maximum=2**64 - 1))


@dataclass(frozen=True)
class Selection:
    time_from: datetime
    time_to: datetime
    variables: dict[str, list[str]]
    timezone: str = "utc"


def read_timezone(value: Any) -> str:
    """Grafana's dashboard timezone forms: `utc` or an IANA name (the page resolves `browser`)."""
    text = str(value or "utc").strip()
    if text.lower() == "utc":
        return "utc"
    # A lookup in the known names, not ZoneInfo(text): a directory ("Europe") or an overlong
    # name makes that raise OSError.
    if text not in _timezone_names():
        message = f"Unknown timezone {text[:60]!r}: use utc or an IANA name."
        raise AnalyticsError(message, field="timezone")
    return text


@functools.cache
def _timezone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def read_selection(dashboard: Mapping[str, Any], body: Mapping[str, Any]) -> Selection:
    moment = now()
    time_from = parse_time(body.get("from", "now-7d"), "from", moment)
    time_to = parse_time(body.get("to", "now"), "to", moment)
    if time_from >= time_to:
        raise AnalyticsError("The time range must start before it ends.", field="from")
    if time_to - time_from > MAX_RANGE:
        raise AnalyticsError(f"The time range may span at most {MAX_RANGE.days} days.", field="from")
    raw = body.get("variables") or {}
    if not isinstance(raw, dict):
        raise AnalyticsError("variables must be an object of name -> list of values.", field="variables")
    known = {v.name: v for v in dashboard_variables(dashboard) if v.name != ORG_VARIABLE}
    chosen: dict[str, list[str]] = {}
    for name, values in raw.items():
        if name not in known:
            # Never ignored: org_ids in particular is the server's to set.
            raise AnalyticsError(f"{name!r} is not a variable of this dashboard.", field=f"variables.{name}")
        values = values if isinstance(values, list) else [values]
        if not all(isinstance(v, str | int) for v in values) or len(values) > 200:
            raise AnalyticsError("Variable values must be a list of strings.", field=f"variables.{name}")
        chosen[name] = [str(v) for v in values]
        if known[name].all_value == ID_ALL and not all(_is_id(v) for v in chosen[name]):
            # Compared with UInt64 columns: anything else would fail inside ClickHouse.
            raise AnalyticsError(
                f"Values of {name} must be ids (positive integers) or {ALL}.", field=f"variables.{name}"
            )
    return Selection(time_from, time_to, chosen, read_timezone(body.get("timezone")))


ORGANIZATION_VARIABLE = "organization"
USER_VARIABLE = "user"


def _chosen_orgs(selection: Selection, visible: set[int] | None) -> set[int] | None:
    """The organizations the `organization` variable narrows to (within `visible`), else `visible`."""
    chosen = selection.variables.get(ORGANIZATION_VARIABLE, [ALL])
    if ALL in chosen or not all(value.isascii() and value.isdigit() for value in chosen):
        return visible  # anything else is the SQL's business; the wider scope is the stricter one
    ids = {int(value) for value in chosen if 0 < int(value) < 2**64}
    if visible is None:
        return ids
    if ids - visible:  # as `org_id` on the KPI API: 403, never an empty answer
        outside = min(ids - visible)
        raise forbidden(
            f"You may not read analytics of organization {outside}.",
            field=f"variables.{ORGANIZATION_VARIABLE}",
        )
    return ids


def restriction_for(user: Any, selection: Selection) -> OrgRestriction:
    """The rows a viewer sees (accounts.privacy): their organizations and, where they see only
    their own rows, their user id; `variables.user` naming anybody else is then 403."""
    visible = visible_org_ids(user)
    chosen = _chosen_orgs(selection, visible)
    own_user = own_rows_user(user, chosen)
    if own_user is not None:
        named = set(selection.variables.get(USER_VARIABLE, [])) - {ALL, str(own_user)}
        if named:
            raise forbidden(OTHERS_REFUSED, field=f"variables.{USER_VARIABLE}")
        return OrgRestriction.of(visible, user_id=own_user)
    # Everybody's rows, granted for the chosen organizations only: the engine limits reads to them.
    return OrgRestriction.of(chosen)


def _variables(dashboard: Mapping[str, Any], selection: Selection) -> dict[str, Any]:
    values: dict[str, Any] = {v.name: ALL for v in dashboard_variables(dashboard) if v.include_all}
    values.update(selection.variables)
    return values


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    return value


def _run(sql: str, restriction: OrgRestriction) -> dict[str, Any]:
    try:
        settings = {**QUERY_SETTINGS, **restriction.query_settings(database_name())}
    except NothingVisible:
        return {"columns": [], "rows": []}
    result = get_client().query(sql, settings=settings)
    return {
        "columns": [
            {"name": name, "type": kind.name}
            for name, kind in zip(result.column_names, result.column_types, strict=True)
        ],
        "rows": [[_json_value(v) for v in row] for row in result.result_rows],
    }


def _expand(
    dashboard: Mapping[str, Any],
    sql: str,
    selection: Selection,
    restriction: OrgRestriction,
    interval_seconds: float,
) -> str | None:
    try:
        return expand(
            sql,
            time_from=selection.time_from,
            time_to=selection.time_to,
            interval_seconds=interval_seconds,
            variables=_variables(dashboard, selection),
            all_values=all_values(dashboard_variables(dashboard)),
            restriction=restriction,
            timezone=selection.timezone,
        )
    except NothingVisible:
        return None
    except MacroError as exc:
        raise AnalyticsError(str(exc), field="variables") from None


def run_panel(
    dashboard: Mapping[str, Any],
    panel_id: int,
    selection: Selection,
    restriction: OrgRestriction,
    max_data_points: int = 1000,
) -> dict[str, Any]:
    panel = next((p for p in dashboard_panels(dashboard) if p.get("id") == panel_id), None)
    if panel is None or not panel.get("targets"):
        raise not_found(f"This dashboard has no panel {panel_id}.", field="panel")
    interval = calculate_interval_seconds(
        selection.time_from,
        selection.time_to,
        max_data_points=int(panel.get("maxDataPoints") or max_data_points),
        min_interval=panel.get("interval"),
    )
    sql = _expand(dashboard, panel["targets"][0]["rawSql"], selection, restriction, interval)
    result = {"columns": [], "rows": []} if sql is None else _run(sql, restriction)
    # What the rows mean: the page draws the axis over the range the server used, cut in the
    # panel's interval, and says why a panel is empty.
    result["meta"] = {
        "from": int(selection.time_from.timestamp() * 1000),
        "to": int(selection.time_to.timestamp() * 1000),
        "interval_s": interval,
        "timezone": selection.timezone,
        "no_organization": sql is None,
    }
    return result


def variable_options(
    dashboard: Mapping[str, Any], name: str, selection: Selection, restriction: OrgRestriction
) -> list[dict[str, str]]:
    variable = next((v for v in dashboard_variables(dashboard) if v.name == name and not v.hidden), None)
    if variable is None or variable.type != "query":
        raise not_found(f"This dashboard has no query variable {name!r}.", field="variable")
    sql = _expand(dashboard, variable.query, selection, restriction, 300)
    if sql is None:
        return []
    result = _run(sql, restriction)
    if len(result["columns"]) == 1:
        return [{"value": str(r[0]), "text": str(r[0])} for r in result["rows"]]
    return [{"value": str(r[0]), "text": str(r[1])} for r in result["rows"]]
