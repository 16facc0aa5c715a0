"""Build every dashboard and serialize it as stable JSON."""

from __future__ import annotations

import json
from pathlib import Path

from generator import DASHBOARDS_DIR
from generator.clickhouse import JSONEncoder
from generator.dashboards import BUILDERS


def render(board) -> str:
    """Sorted keys and a trailing newline: regenerating gives byte-identical files."""
    return json.dumps(board.build(), cls=JSONEncoder, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def build_all() -> dict[str, str]:
    """{file name: JSON text} of every dashboard."""
    return {name: render(builder()) for name, builder in BUILDERS.items()}


def write_all(rendered: dict[str, str], directory: Path = DASHBOARDS_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in rendered.items():
        path = directory / name
        path.write_text(text)
        written.append(path)
    return written


def stale(rendered: dict[str, str], directory: Path = DASHBOARDS_DIR) -> list[str]:
    """File names whose committed JSON differs from `rendered`, plus stray *.json files."""
    outdated = [
        name
        for name, text in rendered.items()
        if not (directory / name).exists() or (directory / name).read_text() != text
    ]
    strays = sorted(path.name for path in directory.glob("*.json") if path.name not in rendered)
    return outdated + strays
