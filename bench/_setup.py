"""Shared set-up for benchmarks: a throw-away data directory and Django configured on it."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def configure(prefix: str) -> Path:
    """Point every setting at a fresh directory (unless ANALYTICS_DATA_DIR is set) and set Django up."""
    data_dir = Path(os.environ.get("ANALYTICS_DATA_DIR") or tempfile.mkdtemp(prefix=f"bench-{prefix}-"))
    os.environ["ANALYTICS_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(REPO / "server"))
    import django

    django.setup()
    return data_dir
