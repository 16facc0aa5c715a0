"""The dashboard pages' formatting code (units, durations, ticks, calendar periods, CSV) under
Node's own test runner: components/dashboards-ui/test/."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

UI = Path(__file__).resolve().parents[1] / "components" / "dashboards-ui"


def test_the_page_formatting_code():
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is required (it builds the dashboard pages: make ui)")
    result = subprocess.run(
        [node, "--test", "test/"], cwd=UI, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
