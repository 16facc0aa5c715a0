"""The `relational` tests (tests/test_relational_db.py and any other test so marked) once more, on
PostgreSQL, the compose stack's database: a pytest run in a subprocess with DATABASE_URL set to
POSTGRES_TEST_URL (default: the local server `make test` starts). Its test database is named
after that process (conftest.py), so parallel runs do not collide.

An unreachable server fails this test, it is never skipped: a suite that silently stopped testing
the production database would look green. Set POSTGRES_TEST_URL=off to leave it out explicitly.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dj_database_url
import psycopg
import pytest

REPO = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgres://postgres:postgres@127.0.0.1:5432/postgres"


def test_the_relational_tests_pass_on_postgresql() -> None:
    url = os.environ.get("POSTGRES_TEST_URL", DEFAULT_URL)
    if url == "off":
        pytest.skip("POSTGRES_TEST_URL=off")
    config = dj_database_url.parse(url)
    try:
        psycopg.connect(
            host=config["HOST"],
            port=config["PORT"] or 5432,
            user=config["USER"],
            password=config["PASSWORD"] or None,
            dbname=config["NAME"],
            connect_timeout=5,
        ).close()
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL at {config['HOST']}:{config['PORT']} is unreachable ({exc}). `make test` installs "
            "and starts it; POSTGRES_TEST_URL points elsewhere.",
            pytrace=False,
        )
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
