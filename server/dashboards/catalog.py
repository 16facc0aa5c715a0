"""The generated dashboards (grafana/dashboards/*.json): the one definition that Grafana provisions
and the built-in pages render."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from django.conf import settings

from dashboards.macros import runs_here

DASHBOARD_DIR: Path = settings.REPO_DIR / "grafana" / "dashboards"
# The order people expect them in (CVAT's three first).
ORDER = ("all-events", "management", "monitoring", "annotators")


@functools.cache
def dashboards() -> dict[str, dict[str, Any]]:
    """uid -> dashboard JSON, read once per process (the files change only with a release)."""
    found = {}
    for path in sorted(DASHBOARD_DIR.glob("*.json")):
        model = json.loads(path.read_text())
        # The pages draw only what this server can run (Grafana-only panels are left out).
        model["panels"] = [p for p in model.get("panels", []) if p.get("type") == "row" or runs_here(p)]
        found[model["uid"]] = model
    return dict(sorted(found.items(), key=lambda item: ORDER.index(item[0]) if item[0] in ORDER else 99))


def dashboard(uid: str) -> dict[str, Any] | None:
    return dashboards().get(uid)
