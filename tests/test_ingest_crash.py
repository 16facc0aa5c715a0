"""Exactly once across crashes, for real: a gunicorn server (as `make run` starts it, embedded chDB in
a temporary directory) is killed with SIGKILL at random moments while several clients post keyed
batches, and restarted; then every acknowledged event must be stored exactly once and every
rollup tier must equal a recount of the raw events. The harness is bench/ingest_crash.py (which
runs a longer version); the figures are printed (pytest -s shows them)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import ingest_crash

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "i12_shipping_crash"


def fresh_postgres_database() -> str | None:
    """A new, empty database on the local PostgreSQL, or None where there is none."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {PG_DATABASE}")
    except Exception:
        return None
    return f"postgres://postgres@127.0.0.1:5432/{PG_DATABASE}"


def check(figures: dict, capsys: pytest.CaptureFixture) -> None:
    with capsys.disabled():  # the figures are part of the result: printed even without -s
        print("\n" + "\n".join(f"{name:>24}: {value}" for name, value in figures.items()))
    assert figures["kills"] >= 10
    assert figures["client_errors"] == []
    assert figures["acknowledged_events"] > 0
    assert figures["lost"] == 0
    assert figures["stored_twice"] == 0
    assert figures["stored_unacknowledged"] == 0
    assert figures["stored_events"] == figures["acknowledged_events"]
    assert figures["rollup_tiers_differing"] == [] and figures["rollup_rows"] > 0


@pytest.mark.slow
def test_sigkill_during_keyed_ingest_loses_nothing_and_stores_nothing_twice_sqlite(capsys):
    check(ingest_crash.run(kills=12, clients=4, events=20, seed=12), capsys)


@pytest.mark.slow
def test_sigkill_during_keyed_ingest_loses_nothing_and_stores_nothing_twice_postgresql(capsys):
    database_url = fresh_postgres_database()
    if database_url is None:
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    check(ingest_crash.run(kills=12, clients=4, events=20, seed=13, database_url=database_url), capsys)
