"""Loading SQL kept in .sql files under clickhouse/ (SQL does not live in Python strings)."""

from __future__ import annotations

import functools
import re

from django.conf import settings

SQL_DIR = settings.REPO_DIR / "clickhouse"

# The scope predicate of every read path query, defined once: (column, the Bool parameter that
# lifts the filter, the Array parameter of allowed ids). A lifting Bool rather than `empty(ids)`:
# ClickHouse folds `true OR x IN (...)` away, not `empty([]) OR x IN (...)` (~1.5 ms on a 30-day
# query). analytics.selectors.Scope.params binds them.
ORG_FILTER = ("org_id", "all_orgs", "org_ids")
ID_FILTERS = (
    ("project_id", "any_project", "project_ids"),
    ("task_id", "any_task", "task_ids"),
    ("job_id", "any_job", "job_ids"),
    ("user_id", "any_user", "user_ids"),
)


def _condition(column: str, lift: str, ids: str) -> str:
    return f"({{{lift}:Bool}} OR {column} IN {{{ids}:Array(UInt64)}})"


def scope_conditions(*, ids: bool = True) -> tuple[str, ...]:
    """The scope's conditions: the organizations, and the project/task/job/user ids unless
    `ids` is False (tables without those columns)."""
    return (_condition(*ORG_FILTER), *((_condition(*f) for f in ID_FILTERS) if ids else ()))


# The downloads' filters (CVAT's export parameters): one id per column, or none. Bound as
# `<column>` (UInt64) and `no_<column>` (Bool, true lifts the filter).
EXPORT_FILTER_COLUMNS: tuple[str, ...] = ("org_id", "project_id", "task_id", "job_id", "user_id")


def export_filter_params(filters: dict[str, int | None]) -> dict[str, object]:
    """The bound parameters of `/*export_filters*/` for {column: id or None}."""
    params: dict[str, object] = {}
    for column in EXPORT_FILTER_COLUMNS:
        value = filters.get(column)
        params[column] = value or 0
        params[f"no_{column}"] = value is None
    return params


# Markers a .sql file writes where a predicate goes (a comment, so the file stays valid SQL):
# `/*scope*/` the whole scope, `/*org_scope*/` the organizations only, `/*export_filters*/` the
# downloads' filters; each AND-ed, each with bound values only.
_MARKERS = {
    "/*scope*/": "\n    AND ".join(scope_conditions()),
    "/*org_scope*/": scope_conditions(ids=False)[0],
    "/*export_filters*/": "\n    AND ".join(
        f"({{no_{column}:Bool}} OR {column} = {{{column}:UInt64}})" for column in EXPORT_FILTER_COLUMNS
    ),
}


@functools.cache
def _read(relative_path: str) -> str:
    """The file's SQL without its leading comment lines (the header that documents it): the
    client scans a query's leading comments on every call to classify it, ~0.3 ms for our
    headers."""
    lines = (SQL_DIR / relative_path).read_text().splitlines(keepends=True)
    while lines and (not lines[0].strip() or lines[0].lstrip().startswith("--")):
        lines.pop(0)
    return "".join(lines)


@functools.cache
def load_sql(relative_path: str) -> str:
    """The file's SQL (header left out) with every predicate marker expanded in full."""
    sql = _read(relative_path)
    for marker, predicate in _MARKERS.items():
        sql = sql.replace(marker, predicate)
    return sql


_SCOPE_FILTERS = (ORG_FILTER, *ID_FILTERS)


def scoped_sql(relative_path: str, params: dict[str, object]) -> str:
    """load_sql with /*scope*/ and /*org_scope*/ rendered for the filters `params` (Scope.params)
    applies only, from the same definition, values still bound: a lifted filter still costs its
    query ~1-2 ms (measured on the per-user summary's read, 30 days of 10M events). Every lifting
    Bool the file's markers need must be in `params`: a missing one never reads as "no filter"."""
    raw = _read(relative_path)
    needed = _SCOPE_FILTERS if "/*scope*/" in raw else (ORG_FILTER,) if "/*org_scope*/" in raw else ()
    missing = [lift for _column, lift, _ids in needed if lift not in params]
    if missing:
        raise ValueError(f"{relative_path}: scope parameters missing: {missing}")
    active = frozenset(column for column, lift, _ids in needed if not params[lift])
    return _rendered(relative_path, active)


@functools.cache
def _rendered(relative_path: str, active: frozenset[str]) -> str:
    conditions = [
        f"{column} IN {{{ids}:Array(UInt64)}}" for column, _lift, ids in _SCOPE_FILTERS if column in active
    ]
    org = conditions[0] if ORG_FILTER[0] in active else "true"
    sql = _read(relative_path).replace("/*scope*/", "\n    AND ".join(conditions) or "true")
    return sql.replace("/*org_scope*/", org).replace("/*export_filters*/", _MARKERS["/*export_filters*/"])


_COMMENT = re.compile(r"--[^\n]*")


def split_statements(sql: str) -> list[str]:
    """Statements end with ';' at the end of a line (our SQL files keep to that)."""
    without_comments = _COMMENT.sub("", sql)
    parts = re.split(r";\s*(?:\n|$)", without_comments)
    return [part.strip() for part in parts if part.strip()]
