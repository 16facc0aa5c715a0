"""Dashboards as code: grafana-foundation-sdk (pinned ==0.0.21, the `dev` extra) builds the
dashboards, a small Dataquery subclass carries the ClickHouse plugin's query model, and
`render()` writes them as stable JSON (sorted keys, two-space indent) under grafana/dashboards/.

`python grafana/generate.py` regenerates; `python grafana/generate.py --check` fails when the
committed JSON is stale (tests/test_grafana_dashboards.py does the same).
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[2]
DASHBOARDS_DIR = REPO_DIR / "grafana" / "dashboards"

# The registry (server/analytics/registry.py) is plain Python: importable without Django.
if str(REPO_DIR / "server") not in sys.path:
    sys.path.insert(0, str(REPO_DIR / "server"))
