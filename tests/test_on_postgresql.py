"""The `relational` tests (tests/test_relational_db.py and any other test so marked) once more, on
PostgreSQL, the compose stack's database: a pytest run in a subprocess with DATABASE_URL set to
POSTGRES_TEST_URL (default: the local server `make test` starts). Its test database is named
after that process (conftest.py), so parallel runs do not collide.

An unreachable server fails this test, it is never skipped (tests/postgres.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from postgres import server_url

REPO = Path(__file__).resolve().parents[1]


def test_the_relational_tests_pass_on_postgresql() -> None:
    url = server_url()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "relational", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=REPO,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=900,
    )
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    print(f"relational tests on PostgreSQL: {summary}")
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert " passed" in summary and "skipped" not in summary, summary
