"""The generated part of docs/metrics.md: tables of every unit, metric and KPI, from the registry.

Rewrite it with `cd server && python manage.py write_metrics_doc`; a test fails when it is stale.
"""

from __future__ import annotations

from django.conf import settings

from analytics.registry import DISTINCT_METRICS, KPIS, METRICS, UNITS

DOC_PATH = settings.REPO_DIR / "docs" / "metrics.md"
BEGIN = "<!-- BEGIN GENERATED FROM server/analytics/registry.py: do not edit by hand -->"
END = "<!-- END GENERATED -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render() -> str:
    lines = ["### Units", "", "| Unit | Meaning |", "| --- | --- |"]
    lines += [f"| `{unit}` | {_cell(meaning)} |" for unit, meaning in UNITS.items()]
    lines += [
        "",
        "### Metrics (additive)",
        "",
        "| Metric | Display name | Unit | Definition (in events) | Description |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| `{m.key}` | {m.display_name} | `{m.unit}` | {_cell(m.definition)} | {_cell(m.description)} |"
        for m in METRICS.values()
    ]
    lines += [
        "",
        "### Distinct counts (exact, not additive)",
        "",
        "| Metric | Display name | Unit | Definition (in events) | Description |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| `{m.key}` | {m.display_name} | `{m.unit}` | {_cell(m.definition)} | {_cell(m.description)} |"
        for m in DISTINCT_METRICS.values()
    ]
    lines += [
        "",
        "### KPIs",
        "",
        "| KPI | Display name | Unit | Formula | Metrics | Description |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| `{k.key}` | {k.display_name} | `{k.unit}` | `{_cell(k.formula_text)}` | "
        f"{', '.join(f'`{m}`' for m in k.metrics)} | {_cell(k.description)} |"
        for k in KPIS.values()
    ]
    return "\n".join(lines)


def updated(document: str) -> str:
    """`document` with the text between the markers replaced by the current tables."""
    head, rest = document.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{render()}\n{END}{tail}"
