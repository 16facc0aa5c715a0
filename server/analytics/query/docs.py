"""The generated part of docs/query-api.md: every measure (kind, record fields, definition) and
every Dataloop measure we do not offer, from `analytics.query.measures`. A test fails when it is
stale; rewrite it with
`cd server && python manage.py shell -c "from analytics.query import docs; docs.write()"`."""

from __future__ import annotations

from django.conf import settings

from analytics.query.measures import MEASURES, NOT_SUPPORTED, ActivityByField

DOC_PATH = settings.REPO_DIR / "docs" / "query-api.md"
BEGIN = "<!-- BEGIN GENERATED FROM server/analytics/query/measures/: do not edit by hand -->"
END = "<!-- END GENERATED -->"
_KINDS = {"timeline": "per bucket", "list": "per group", "single": "one record"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _fields(measure) -> str:
    if isinstance(measure, ActivityByField):
        return "*groupByFields*, `activityStatus`, `duration`"
    return ", ".join(f"`{name}`" for name in measure.fields)


def render() -> str:
    lines = [
        "| measureType | Records | Fields | Definition | Default order |",
        "| --- | --- | --- | --- | --- |",
    ]
    for measure in MEASURES.values():
        order = f"`{measure.sort_field}` {measure.default_direction}" if measure.sort_field else ""
        params = "".join(f"<br>`params.{name}`: {_cell(text)}" for name, text in measure.params_doc.items())
        lines.append(
            f"| `{measure.name}` | {_KINDS[measure.kind]} | {_fields(measure)} | "
            f"{_cell(measure.summary)}{params} | {order} |"
        )
    lines += ["", "Not offered (`400 measure_not_supported`, the message says why):", ""]
    lines += ["| measureType | Why |", "| --- | --- |"]
    lines += [f"| `{name}` | {_cell(reason)} |" for name, reason in NOT_SUPPORTED.items()]
    return "\n".join(lines)


def updated(text: str) -> str:
    head, found_begin, rest = text.partition(BEGIN)
    _, found_end, tail = rest.partition(END)
    if not found_begin or not found_end:
        raise ValueError(f"{DOC_PATH} has no generated section ({BEGIN} ... {END})")
    return f"{head}{BEGIN}\n{render()}\n{END}{tail}"


def write() -> str:
    current = DOC_PATH.read_text()
    new = updated(current)
    if new != current:
        DOC_PATH.write_text(new)
    return f"{DOC_PATH}: {'updated' if new != current else 'up to date'}"
