"""Grafana's variable interpolation and the ClickHouse plugin's macros, in Python: time range and
variable values in, the SQL that Grafana would send to ClickHouse out.

One dashboard definition (the generated JSON under grafana/dashboards/) serves Grafana and the
server's own pages; this module is what makes them run the same SQL. The tests run every panel
and variable query through it against the embedded engine, so a query that works here works in
Grafana, and the built-in pages (issue 8) use it to run the panels themselves.

The order is the plugin's (grafana/clickhouse-datasource, CHDatasource.applyTemplateVariables and
pkg/macros/macros.go over grafana/sqlds):

1. `$__conditionalAll(condition, $var)` (frontend): `1=1` when `$var` is All or empty, else the
   condition, innermost-last as the plugin does (it scans from the last occurrence).
2. Template variables (frontend, Grafana's scenes interpolator): `$var`, `${var}`,
   `${var:format}`, `[[var]]`, plus the built-ins `__from`, `__to`, `__interval`, `__interval_ms`,
   `__range`, `__range_s`, `__range_ms`, `__timezone`. Without a format the plugin's own formatter applies: a
   list becomes `'a','b'`, a single value is inserted as it is. A variable set to All inserts its
   custom all value verbatim (Grafana never formats a custom all value), and the all value is
   itself interpolated again; without a custom all value All means every option. Unknown names
   are left as they are, as Grafana does.
3. Macros (backend, sqlds): `$__timeFilter(col)`, `$__timeFilter_ms(col)`, `$__dateFilter(col)`,
   `$__dateTimeFilter(dcol, tcol)` / `$__dt`, `$__fromTime`, `$__toTime`, `$__fromTime_ms`,
   `$__toTime_ms`, `$__timeInterval(col)`, `$__timeInterval_ms(col)`, `$__interval_s`. Times are
   Unix seconds (floored) or milliseconds; the interval is at least 1 s (1 ms). Arguments are
   split on commas at the first bracket depth. A macro with the wrong number of arguments is an
   error, as in the plugin; unknown `$__name` macros are left in place.

Quoting. Grafana's `singlequote` escapes `'` as `\\'` but leaves backslashes alone, so a value
ending in a backslash breaks out of its string. `quoting="grafana"` reproduces that exactly (the
tests compare both modes); the default `quoting="clickhouse"` also escapes backslashes, which is
identical for every value without one, and refuses to insert a non-numeric value unquoted (raw,
csv, glob... formats and the plugin's default for a single value). The server must use the
default: variable values come from the browser.

Organization restriction (for the built-in pages; Grafana users are instance analysts who see
every organization). Every generated query filters every read of `events` and the rollups with
`(-1 IN (${org_ids:singlequote}) OR org_id IN (${org_ids:singlequote}))`; `org_ids` is a hidden
dashboard variable that Grafana leaves at All. `expand(..., restriction=OrgRestriction.of(ids))`
sets `org_ids` from the viewer's memberships, whatever the request said, refuses SQL that reads a
restricted table without that filter, and `OrgRestriction.query_settings()` gives the ClickHouse
`additional_table_filters` setting that limits the same tables again inside ClickHouse. A request
can only choose variable values, which are quoted, and the time range: it cannot widen either.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from store.schema import ORG_SCOPED_TABLES

ALL = "$__all"  # Grafana's value for the "All" option
ALL_TEXT = "All"
ORG_VARIABLE = "org_ids"
# The condition every generated query puts on every read of a restricted table.
ORG_FILTER = "(-1 IN (${org_ids:singlequote}) OR org_id IN (${org_ids:singlequote}))"
RESTRICTED_TABLES = ORG_SCOPED_TABLES  # from the schema: events and every rollup tier

Quoting = Literal["clickhouse", "grafana"]
VariableValue = str | Sequence[str]
TimeLike = datetime | int


class MacroError(ValueError):
    """The SQL cannot be expanded into valid ClickHouse SQL (bad macro call, missing value...)."""


class UnsafeValueError(MacroError):
    """A variable value would be inserted into SQL unquoted and is not a plain number."""


class NothingVisible(MacroError):
    """The viewer belongs to no organization: there is nothing to query."""


# --- dashboard model -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Variable:
    """What interpolation needs to know about one templating variable of a dashboard."""

    name: str
    type: str
    query: str
    include_all: bool
    all_value: str | None  # the custom all value; None: All means every option
    multi: bool
    hidden: bool
    label: str

    @classmethod
    def from_json(cls, model: Mapping[str, Any]) -> Variable:
        query = model.get("query", "")
        if isinstance(query, Mapping):
            query = query.get("rawSql") or query.get("query") or ""
        return cls(
            name=model["name"],
            type=model.get("type", "query"),
            query=str(query or ""),
            include_all=bool(model.get("includeAll")),
            all_value=model.get("allValue") or None,
            multi=bool(model.get("multi")),
            hidden=model.get("hide", 0) == 2,
            label=model.get("label") or model["name"],
        )


def dashboard_variables(dashboard: Mapping[str, Any]) -> list[Variable]:
    return [Variable.from_json(model) for model in dashboard.get("templating", {}).get("list", [])]


def all_values(variables: Iterable[Variable]) -> dict[str, str | None]:
    """The `all_values` argument of `expand` for these variables: only those with an All option."""
    return {v.name: v.all_value for v in variables if v.include_all}


def runs_here(panel: Mapping[str, Any]) -> bool:
    """Panels on the ClickHouse datasource run here (and on the built-in pages); the others (the
    Monitoring dashboard's Prometheus panel of the pipeline's own metrics) are Grafana's only."""
    return (panel.get("datasource") or {}).get("type") == "grafana-clickhouse-datasource"


def dashboard_panels(dashboard: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every panel that runs here, including those nested in collapsed rows."""
    for panel in dashboard.get("panels", []):
        if panel.get("type") == "row":
            yield from filter(runs_here, panel.get("panels", []))
        elif runs_here(panel):
            yield panel


# --- organization restriction -------------------------------------------------------------------


@dataclass(frozen=True)
class OrgRestriction:
    """The rows a viewer may see: organizations (None = every organization, superusers) and, for a
    viewer who sees only their own rows (accounts.privacy), their user id."""

    org_ids: frozenset[int] | None
    user_id: int | None = None

    @classmethod
    def of(cls, org_ids: Iterable[int] | None, user_id: int | None = None) -> OrgRestriction:
        if user_id is not None and (isinstance(user_id, bool) or int(user_id) <= 0):
            raise ValueError("user ids are positive integers")
        user = None if user_id is None else int(user_id)
        if org_ids is None:
            return cls(None, user)
        ids = frozenset(int(org) for org in org_ids)
        if any(org <= 0 for org in ids):
            raise ValueError("organization ids are positive integers")
        return cls(ids, user)

    @property
    def sees_nothing(self) -> bool:
        return self.org_ids is not None and not self.org_ids

    def value(self) -> VariableValue:
        if self.org_ids is None:
            return ALL
        return [str(org) for org in sorted(self.org_ids)]

    def query_settings(self, database: str | None = None) -> dict[str, str]:
        """ClickHouse settings that limit every read of the restricted tables to these
        organizations (and user) inside the engine, whatever the SQL says (empty for everything).
        Pass the database the tables live in (keys must name the table as ClickHouse resolves it)."""
        conditions = []
        if self.org_ids is not None:
            if self.sees_nothing:
                raise NothingVisible("no organization to read")
            conditions.append(f"org_id IN ({', '.join(str(org) for org in sorted(self.org_ids))})")
        if self.user_id is not None:
            conditions.append(f"user_id = {self.user_id}")
        if not conditions:
            return {}
        condition = " AND ".join(conditions)
        prefix = f"{database}." if database else ""
        filters = ", ".join(f"'{prefix}{table}': '{condition}'" for table in RESTRICTED_TABLES)
        return {"additional_table_filters": "{" + filters + "}"}


_READS = re.compile(r"\b(?:FROM|JOIN)\s+(" + "|".join(RESTRICTED_TABLES) + r")\b", re.IGNORECASE)


def check_org_filtered(sql: str) -> None:
    """Every read of a restricted table must come with one ORG_FILTER (the generator writes one
    per read); raise otherwise."""
    reads = len(_READS.findall(sql))
    filters = sql.count(ORG_FILTER)
    if filters < reads:
        raise MacroError(
            f"the query reads {reads} restricted table(s) but has {filters} organization filter(s)"
        )


# --- time and interval ---------------------------------------------------------------------------


def epoch_ms(moment: TimeLike) -> int:
    """A datetime (naive = UTC) or epoch milliseconds -> epoch milliseconds (floored, like JS)."""
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return (moment - _EPOCH) // timedelta(milliseconds=1)
    if isinstance(moment, bool) or not isinstance(moment, int):
        raise TypeError("a time is a datetime or an int of epoch milliseconds")
    return moment


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def round_interval_ms(interval_ms: float) -> int:
    """Grafana's rangeutil.roundInterval: the "nice" interval for a raw one, in milliseconds."""
    for limit, nice in _ROUND_INTERVAL:
        if interval_ms < limit:
            return nice
    return 31_536_000_000


_ROUND_INTERVAL = (
    (10, 1),
    (15, 10),
    (35, 20),
    (75, 50),
    (150, 100),
    (350, 200),
    (750, 500),
    (1500, 1000),
    (3500, 2000),
    (7500, 5000),
    (12500, 10000),
    (17500, 15000),
    (25000, 20000),
    (45000, 30000),
    (90000, 60000),
    (210000, 120000),
    (450000, 300000),
    (750000, 600000),
    (1050000, 900000),
    (1500000, 1200000),
    (2700000, 1800000),
    (5400000, 3600000),
    (9000000, 7200000),
    (16200000, 10800000),
    (32400000, 21600000),
    (86400000, 43200000),
    (604800000, 86400000),
    (1814400000, 604800000),
    (3628800000, 2592000000),
)

_UNITS_S = {
    "y": 31_536_000,
    "M": 2_592_000,
    "w": 604_800,
    "d": 86_400,
    "h": 3600,
    "m": 60,
    "s": 1,
    "ms": 0.001,
}
_INTERVAL = re.compile(r"(-?\d+(?:\.\d+)?)(ms|[Mwdhmsy])")


def interval_to_ms(text: str) -> float:
    """Grafana's rangeutil.intervalToMs: '5m' -> 300000, '30' -> 30000 (unit-less = seconds)."""
    try:
        if float(text):
            return int(float(text)) * 1000
    except ValueError:
        pass
    match = _INTERVAL.search(text)
    if not match:
        raise MacroError(f"invalid interval {text!r}")
    return _UNITS_S[match.group(2)] * 1000 * int(float(match.group(1)))


def calculate_interval_seconds(
    time_from: TimeLike, time_to: TimeLike, *, max_data_points: int, min_interval: str | None = None
) -> float:
    """Grafana's rangeutil.calculateInterval: the auto interval of a panel (its `$__interval`)
    for a time range, the panel's max data points (its width in Grafana) and its `interval`
    (minimum interval) setting. In seconds."""
    span = epoch_ms(time_to) - epoch_ms(time_from)
    interval_ms = round_interval_ms(span / max(max_data_points, 1))
    low = interval_to_ms(min_interval) if min_interval else 1
    return max(interval_ms, low) / 1000


def seconds_to_hms(seconds: float) -> str:
    """Grafana's rangeutil.secondsToHms ('5m', '1h', '30s', '500ms'): the text of `$__interval`."""
    years = math.floor(seconds / 31_536_000)
    if years:
        return f"{years}y"
    days = math.floor((seconds % 31_536_000) / 86_400)
    if days:
        return f"{days}d"
    hours = math.floor((seconds % 31_536_000 % 86_400) / 3600)
    if hours:
        return f"{hours}h"
    minutes = math.floor((seconds % 31_536_000 % 86_400 % 3600) / 60)
    if minutes:
        return f"{minutes}m"
    whole = math.floor(seconds % 31_536_000 % 86_400 % 3600 % 60)
    if whole:
        return f"{whole}s"
    millis = math.floor(seconds * 1000)
    return f"{millis}ms" if millis else "less than a millisecond"


# --- step 1: $__conditionalAll --------------------------------------------------------------------

_CONDITIONAL_ALL = "$__conditionalAll("
_VAR_IN_ARG = re.compile(r"(?<=\$\{)\w+(?=\})|(?<=\$)\w+", re.ASCII)


def _macro_args(text: str, open_index: int) -> list[str]:
    """The plugin's getMacroArgs: arguments split on commas at bracket depth 1, untrimmed."""
    args: list[str] = []
    depth = 0
    last = 1
    sub = text[open_index:]
    for match in re.finditer(r"[(),]", sub):
        char = match.group(0)
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 1:
            args.append(sub[last : match.end() - 1])
            last = match.end()
        if depth == 0:
            args.append(sub[last : match.end() - 1])
            return args
    return args


def _is_all_or_empty(value: VariableValue | None) -> bool:
    if value is None:
        return False
    text = value if isinstance(value, str) else ",".join(value)
    return text in ("", ALL)


def apply_conditional_all(sql: str, variables: Mapping[str, VariableValue]) -> str:
    index = sql.rfind(_CONDITIONAL_ALL)
    while index != -1:
        params = _macro_args(sql, index + len(_CONDITIONAL_ALL) - 1)
        if len(params) != 2:
            return sql
        phrase = params[0]
        found = _VAR_IN_ARG.search(params[1].strip())
        if found and found.group(0) in variables and _is_all_or_empty(variables[found.group(0)]):
            phrase = "1=1"
        call = f"{_CONDITIONAL_ALL}{params[0]},{params[1]})"
        sql = sql.replace(call, phrase, 1)
        index = sql.rfind(_CONDITIONAL_ALL)
    return sql


# --- step 2: template variables --------------------------------------------------------------------

# Grafana's VARIABLE_REGEX: $var | [[var:fmt]] | ${var.fieldPath:fmt}
_VARIABLE = re.compile(
    r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^\}]+))?(?::([^\}]+))?\}", re.ASCII
)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple)


def _quote(value: str, quote: str, quoting: Quoting) -> str:
    if quoting == "clickhouse":
        value = value.replace("\\", "\\\\")
    return quote + value.replace(quote, "\\" + quote) + quote


def _sql_string(value: str, quoting: Quoting) -> str:
    if quoting == "clickhouse":
        value = value.replace("\\", "\\\\")
    return "'" + value.replace("'", "''").replace('"', '\\"') + "'"


def _unquoted(values: Sequence[str], quoting: Quoting, name: str, fmt: str) -> None:
    if quoting != "clickhouse":
        return
    for value in values:
        if not _NUMBER.fullmatch(value):
            raise UnsafeValueError(
                f"variable {name!r} would insert {value!r} unquoted (format {fmt!r}); "
                "use ${" + name + ":singlequote}"
            )


def _format(name: str, value: VariableValue, fmt: str | None, quoting: Quoting) -> str:
    values = list(value) if _is_list(value) else [str(value)]
    if fmt is None:  # the ClickHouse plugin's own formatter
        if _is_list(value):
            return (
                ",".join(_quote(v, "'", quoting) for v in values)
                if quoting == "clickhouse"
                else ("'" + "','".join(values) + "'")
            )
        _unquoted(values, quoting, name, "default")
        return str(value)
    fmt_name, *args = fmt.split(":")
    if fmt_name == "singlequote":
        return ",".join(_quote(v, "'", quoting) for v in values)
    if fmt_name == "doublequote":
        return ",".join(_quote(v, '"', quoting) for v in values)
    if fmt_name == "sqlstring":
        return ",".join(_sql_string(v, quoting) for v in values)
    if fmt_name == "text":
        return " + ".join(values)
    if fmt_name in ("csv", "raw", "pipe", "join", "json", "glob"):
        _unquoted(values, quoting, name, fmt_name)
        if not _is_list(value):
            return str(value)
        if fmt_name == "csv":
            return ",".join(values)
        if fmt_name == "pipe":
            return "|".join(values)
        if fmt_name == "join":
            return (args[0] if args else ",").join(values)
        if fmt_name == "json":
            return json.dumps(values, separators=(",", ":"))
        if fmt_name == "raw":
            return ",".join(values)
        return "{" + ",".join(values) + "}" if len(values) > 1 else values[0]
    raise MacroError(f"variable format {fmt_name!r} is not supported here (variable {name!r})")


def _date_format(value_ms: int, args: list[str]) -> str:
    arg = args[0] if args else "iso"
    if arg == "ms":
        return str(value_ms)
    if arg == "seconds":
        return str(math.floor(value_ms / 1000 + 0.5))
    if arg == "iso":
        moment = datetime.fromtimestamp(value_ms / 1000, UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value_ms % 1000:03d}Z"
    raise MacroError(f"date format {arg!r} is not supported here")


@dataclass(frozen=True)
class _Context:
    from_ms: int
    to_ms: int
    interval_seconds: float
    timezone: str
    variables: Mapping[str, VariableValue]
    all_values: Mapping[str, str | None]
    options: Mapping[str, Sequence[str]]
    quoting: Quoting


def _builtin(name: str, fmt: str | None, ctx: _Context) -> str | None:
    if name in ("__from", "__to"):
        value = ctx.from_ms if name == "__from" else ctx.to_ms
        if fmt is None:
            return str(value)
        fmt_name, *args = fmt.split(":")
        if fmt_name == "date":
            return _date_format(value, args)
        return str(value)
    if name == "__timezone":  # Grafana's dashboard timezone: `utc` or an IANA name
        return _format(name, ctx.timezone, fmt, ctx.quoting)
    interval_ms = max(ctx.interval_seconds * 1000, 1)
    range_ms = ctx.to_ms - ctx.from_ms
    if name == "__interval":
        return seconds_to_hms(interval_ms / 1000)
    if name == "__interval_ms":
        return str(int(interval_ms))
    if name == "__range_ms":
        return str(range_ms)
    if name == "__range_s":
        return str(math.floor(range_ms / 1000 + 0.5))
    if name == "__range":
        return f"{math.floor(range_ms / 1000 + 0.5)}s"
    return None


def _resolve(name: str, fmt: str | None, ctx: _Context, depth: int) -> str | None:
    builtin = _builtin(name, fmt, ctx)
    if builtin is not None:
        return builtin
    if name not in ctx.variables:
        return None
    value = ctx.variables[name]
    is_all = value == ALL or (_is_list(value) and len(value) > 0 and value[0] == ALL)
    if _is_list(value) and len(value) == 0:
        if name not in ctx.all_values:
            raise MacroError(f"variable {name!r} has no value and no All option")
        is_all = True
    if is_all:
        if name not in ctx.all_values:
            raise MacroError(f"variable {name!r} is set to All but has no All option")
        custom = ctx.all_values[name]
        if custom:
            if fmt == "text":
                return ALL_TEXT
            if depth > 10:
                raise MacroError("custom all values refer to each other in a loop")
            return _interpolate(custom, ctx, depth + 1)  # never formatted, interpolated again
        choices = list(ctx.options.get(name, ()))
        if not choices:
            raise MacroError(
                f"variable {name!r} is All without a custom all value and has no options: "
                "Grafana would write IN ()"
            )
        value = choices
    return _format(name, value, fmt, ctx.quoting)


def _interpolate(sql: str, ctx: _Context, depth: int = 0) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(4)
        fmt = match.group(3) or match.group(6)
        if match.group(5):  # ${var.fieldPath}: not used by SQL dashboards
            raise MacroError(f"field paths are not supported: {match.group(0)}")
        resolved = _resolve(name, fmt, ctx, depth)
        return match.group(0) if resolved is None else resolved

    return _VARIABLE.sub(replace, sql)


# --- step 3: the plugin's macros ---------------------------------------------------------------------


def _parse_args(text: str) -> tuple[list[str] | None, int]:
    """sqlds' parseArgs: a bracketed list at the start of `text` -> (trimmed args, length);
    (None, 0) when there is none; (None, -1) when the bracket never closes."""
    if not text.startswith("("):
        return None, 0
    args: list[str] = []
    depth = 0
    current: list[str] = []
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
            if depth == 1:
                continue
        elif char == ")":
            depth -= 1
            if depth == 0:
                args.append("".join(current).strip())
                return args, i + 1
        elif char == "," and depth == 1:
            args.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    return None, -1


def _date_time(seconds: int) -> str:
    return f"toDateTime({seconds})"


def _date_time64(millis: int) -> str:
    return f"fromUnixTimestamp64Milli({millis})"


def _date(millis: int) -> str:
    return "toDate('" + datetime.fromtimestamp(millis / 1000, UTC).strftime("%Y-%m-%d") + "')"


def _expect(name: str, args: list[str] | None, count: int) -> list[str]:
    got = len(args or [])
    if got != count:
        raise MacroError(f"$__{name}: expected {count} argument(s), received {got}")
    return args or []


def _macro(name: str, args: list[str] | None, ctx: _Context) -> str:
    from_s, to_s = ctx.from_ms // 1000, ctx.to_ms // 1000
    interval_s = int(max(ctx.interval_seconds, 1))
    if name == "fromTime":
        return _date_time(from_s)
    if name == "toTime":
        return _date_time(to_s)
    if name == "fromTime_ms":
        return _date_time64(ctx.from_ms)
    if name == "toTime_ms":
        return _date_time64(ctx.to_ms)
    if name == "timeFilter":
        (col,) = _expect(name, args, 1)
        return f"{col} >= {_date_time(from_s)} AND {col} <= {_date_time(to_s)}"
    if name == "timeFilter_ms":
        (col,) = _expect(name, args, 1)
        return f"{col} >= {_date_time64(ctx.from_ms)} AND {col} <= {_date_time64(ctx.to_ms)}"
    if name == "dateFilter":
        (col,) = _expect(name, args, 1)
        return f"{col} >= {_date(ctx.from_ms)} AND {col} <= {_date(ctx.to_ms)}"
    if name in ("dateTimeFilter", "dt"):
        dcol, tcol = _expect(name, args, 2)
        return (
            f"({dcol} >= {_date(ctx.from_ms)} AND {dcol} <= {_date(ctx.to_ms)}) AND "
            f"({tcol} >= {_date_time(from_s)} AND {tcol} <= {_date_time(to_s)})"
        )
    if name == "timeInterval":
        (col,) = _expect(name, args, 1)
        return f"toStartOfInterval(toDateTime({col}), INTERVAL {interval_s} second)"
    if name == "timeInterval_ms":
        (col,) = _expect(name, args, 1)
        millis = max(int(ctx.interval_seconds * 1000), 1)
        return f"toStartOfInterval(toDateTime64({col}, 3), INTERVAL {millis} millisecond)"
    if name == "interval_s":
        return str(interval_s)
    raise AssertionError(name)


MACROS = (
    "fromTime",
    "toTime",
    "fromTime_ms",
    "toTime_ms",
    "timeFilter",
    "timeFilter_ms",
    "dateFilter",
    "dateTimeFilter",
    "dt",
    "timeInterval",
    "timeInterval_ms",
    "interval_s",
)


def apply_macros(sql: str, ctx: _Context) -> str:
    for name in MACROS:
        pattern = re.compile(r"\$__" + name + r"\b")
        position = 0
        while True:
            match = pattern.search(sql, position)
            if match is None:
                break
            args, length = _parse_args(sql[match.end() :])
            if length < 0:
                raise MacroError(f"$__{name}: failed to parse macro arguments (missing close bracket?)")
            expansion = _macro(name, args, ctx)
            sql = sql[: match.start()] + expansion + sql[match.end() + length :]
            position = match.start() + len(expansion)
    return sql


# --- the whole pipeline ------------------------------------------------------------------------------


def expand(
    sql: str,
    *,
    time_from: TimeLike,
    time_to: TimeLike,
    interval_seconds: float,
    variables: Mapping[str, VariableValue] | None = None,
    all_values: Mapping[str, str | None] | None = None,
    options: Mapping[str, Sequence[str]] | None = None,
    restriction: OrgRestriction | None = None,
    quoting: Quoting = "clickhouse",
    timezone: str = "utc",
) -> str:
    """The SQL Grafana + the ClickHouse plugin would run for `sql`.

    - `time_from`, `time_to`: the dashboard time range (datetimes, or epoch milliseconds).
    - `interval_seconds`: the panel's interval (`$__interval`); see calculate_interval_seconds.
    - `variables`: name -> a list of selected values (multi-value variables) or one value; `ALL`
      (or `[ALL]`) selects All. An empty list selects All when the variable has an All option.
    - `all_values`: name -> custom all value (None: All means every option) for every variable
      with an All option; `all_values(dashboard_variables(dashboard))` gives it.
    - `options`: name -> every option value, needed only for All without a custom all value.
    - `restriction`: force `org_ids` to these organizations (see the module docstring).
    - `timezone`: the dashboard's timezone, Grafana's `${__timezone}` (`utc` or an IANA name).
    """
    values = dict(variables or {})
    alls = dict(all_values or {})
    if restriction is not None:
        if restriction.sees_nothing:
            raise NothingVisible("the viewer belongs to no organization")
        check_org_filtered(sql)
        values[ORG_VARIABLE] = restriction.value()
        alls.setdefault(ORG_VARIABLE, "-1")
    ctx = _Context(
        from_ms=epoch_ms(time_from),
        to_ms=epoch_ms(time_to),
        interval_seconds=float(interval_seconds),
        timezone=timezone,
        variables=values,
        all_values=alls,
        options=dict(options or {}),
        quoting=quoting,
    )
    if ctx.to_ms < ctx.from_ms:
        raise MacroError("the time range ends before it starts")
    sql = apply_conditional_all(sql, values)
    sql = _interpolate(sql, ctx)
    return apply_macros(sql, ctx)
