"""The one compiler of registry metrics and KPIs into ClickHouse SQL, over rollup rows: the KPI and
metric API reads the organization tiers with it (analytics/selectors.py), and the Grafana
generator (grafana/generator/sql.py) writes every dashboard's metric and KPI with it.

A metric is an aggregate over the rollup rows its registry definition matches (the same rules as
Metric.matches / DistinctMetric.matches): sumIf(column, condition) for additive ones; for a
distinct count, uniqExactIf(dimension, ...) over a full tier, or the merge of the organization
tier's uniqExact state of that dimension. A KPI is its formula text with every metric replaced by
its aggregate and every division by nullIf(denominator, 0) (NULL where the Python formula gives
None).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping

from analytics.formulas import parse
from analytics.registry import ALL_METRICS, ALL_SCOPES, JOB_KPIS, KPIS, DistinctMetric, Metric
from analytics.tiers import ORG_DISTINCT_STATES


def quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def metric_condition(metric: Metric | DistinctMetric) -> str:
    """The rollup rows a metric reads."""
    if metric.metric_keys == (ALL_SCOPES,):
        condition = "position(metric_key, '=') = 0"
    else:
        condition = "metric_key IN (" + ", ".join(quote(key) for key in metric.metric_keys) + ")"
    sources = getattr(metric, "sources", ())
    if sources:
        condition += " AND source IN (" + ", ".join(quote(source) for source in sources) + ")"
    return condition


def metric(key: str, *, org_tier: bool = False) -> str:
    """The SQL aggregate of one registry metric over rollup rows (of an organization tier: its
    distinct counts merge the tier's uniqExact states)."""
    definition = ALL_METRICS[key]
    if isinstance(definition, DistinctMetric):
        dimension = definition.dimension
        if org_tier:
            state = ORG_DISTINCT_STATES[dimension]
            return f"uniqExactMergeIf({state}, {metric_condition(definition)})"
        return f"uniqExactIf({dimension}, {dimension} != 0 AND {metric_condition(definition)})"
    return f"sumIf({definition.column}, {metric_condition(definition)})"


def metrics_prefilter(keys: Iterable[str]) -> str:
    """A WHERE condition keeping only the rows the metrics read (the rollups are sorted by
    metric_key after org_id, so this reads fewer granules)."""
    conditions = sorted({metric_condition(ALL_METRICS[key]) for key in keys})
    return "(" + " OR ".join(f"({c})" for c in conditions) + ")"


def kpi(key: str, operands: Mapping[str, str] | None = None) -> str:
    """A registry KPI as SQL: its formula_text with every metric replaced by its aggregate (or by
    `operands[metric]`), and every division by `nullIf(denominator, 0)`: NULL where the registry's
    ratio() gives None, never a made-up 0 or inf."""
    definition = KPIS[key]
    return _sql(parse(definition.formula_text, definition.metrics), operands or {})


_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*"}


def _sql(node: ast.AST, operands: Mapping[str, str]) -> str:
    if isinstance(node, ast.Name):
        return operands.get(node.id) or metric(node.id)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return repr(node.value)
    if isinstance(node, ast.BinOp):
        left = _sql(node.left, operands)
        right = _sql(node.right, operands)
        if isinstance(node.op, ast.Div):
            return f"({left} / nullIf({right}, 0))"
        if type(node.op) in _OPERATORS:
            return f"({left} {_OPERATORS[type(node.op)]} {right})"
    raise ValueError(f"unsupported formula element {ast.dump(node)}")


def job_kpi(key: str, per_job: Mapping[str, str], job_column: str) -> str:
    """A registry job-outcome KPI (JOB_KPIS) over joined per-job rows: 100 x the distinct jobs
    for which `accepted_text` holds / the distinct jobs with a `counted` event, NULL over none.
    `per_job` maps each of its metrics to the column holding that job's total."""
    definition = JOB_KPIS[key]
    missing = set(definition.metrics) - set(per_job)
    if missing:
        raise ValueError(f"{key} needs per-job columns for {sorted(missing)}")
    accepted = re.sub(r"\b[a-z_]+\b", lambda m: per_job.get(m.group(0), m.group(0)), definition.accepted_text)
    counted = f"{per_job[definition.counted]} > 0"
    return (
        f"(100 * uniqExactIf({job_column}, {counted} AND {accepted})"
        f" / nullIf(uniqExactIf({job_column}, {counted}), 0))"
    )
