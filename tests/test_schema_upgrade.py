"""Upgrading a data directory written before the schema was defined in Python, on real chDB: the
new `migrate_clickhouse` applies nothing, loses nothing and warns about nothing; a fresh database
migrated by the new code has exactly the tables and views the old files made; deduplication, the
views and the backfill keep working on the upgraded directory. Each step runs in its own process
(tests/schema_upgrade_steps.py), as an operator's commands would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STEPS = Path(__file__).resolve().parent / "schema_upgrade_steps.py"


def _env(tmp_path: Path, url: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO / "server"),
        "ANALYTICS_DATA_DIR": str(tmp_path),
        "CLICKHOUSE_URL": url,
        "LOG_LEVEL": "INFO",
    }


def step(tmp_path: Path, name: str, directory: Path) -> dict:
    result = subprocess.run(
        [sys.executable, str(STEPS), name, str(directory)],
        env=_env(tmp_path, f"chdb://{directory}"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def manage(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO / "server",
        env=_env(tmp_path, url),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result


def without_tables(dump: dict) -> dict:
    return {key: value for key, value in dump.items() if key != "tables"}


def test_a_directory_written_before_the_definitions_upgrades_in_place_without_loss(tmp_path):
    directory = tmp_path / "clickhouse"
    step(tmp_path, "install-main", directory)
    before = step(tmp_path, "dump", directory)
    assert before["events"][0][0] == "2000"  # five batches of 400; the retried one stored once
    assert [row[0] for row in before["migrations"]] == ["1", "2", "10", "11"]
    assert all(before[tier] for tier in ("rollup_5m", "rollup_1d", "rollup_org_1d", "names"))

    upgrade = manage(tmp_path, f"chdb://{directory}", "migrate_clickhouse")
    assert "(0 applied now)" in upgrade.stdout
    assert "changed after it was applied" not in upgrade.stdout + upgrade.stderr
    after = step(tmp_path, "dump", directory)
    assert without_tables(after) == without_tables(before)

    # The new code's single-node rendering, into a fresh database of the same engine: the same
    # tables and views, created by the same statements as the old files made them.
    fresh = manage(tmp_path, f"chdb://{directory}?database=rendered", "migrate_clickhouse")
    assert "(4 applied now)" in fresh.stdout
    tables = step(tmp_path, "dump", directory)["tables"]
    assert set(tables["rendered"]) == set(tables["default"])
    for name, create in tables["default"].items():
        assert tables["rendered"][name] == create, name

    # Still deduplicated, still rolled up: one more batch, retried with its token.
    step(tmp_path, "ship-retried", directory)
    shipped = step(tmp_path, "dump", directory)
    assert int(shipped["events"][0][0]) == 2000 + 300
    assert shipped["events"][0][0] == shipped["events"][0][2]  # no event_id twice

    def total(dump: dict, tier: str) -> int:
        return sum(
            int(row[-4 if tier.startswith("rollup_") and "org" not in tier else -6]) for row in dump[tier]
        )

    for tier in ("rollup_5m", "rollup_1h", "rollup_1d", "rollup_org_1h", "rollup_org_1d"):
        assert total(shipped, tier) > total(before, tier)
        assert total(shipped, tier) == total(shipped, "rollup_5m")

    # The backfill (the views' own SELECTs) rebuilds exactly what the views wrote.
    manage(tmp_path, f"chdb://{directory}", "backfill_rollups", "--no-progress")
    assert without_tables(step(tmp_path, "dump", directory)) == without_tables(shipped)
