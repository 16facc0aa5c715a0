"""The local PostgreSQL the suite also runs on (the compose stack's database): where it is, and
scratch databases on it. An unreachable server fails the test that needs it, loudly; it is never a
skip, or a suite that silently stopped testing the production database would look green.
POSTGRES_TEST_URL=off leaves those tests out explicitly (docs/settings.md)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import dj_database_url
import psycopg
import pytest

DEFAULT_URL = "postgres://postgres:postgres@127.0.0.1:5432/postgres"


def server_url() -> str:
    """POSTGRES_TEST_URL (a maintenance database such as `postgres`), checked reachable."""
    url = os.environ.get("POSTGRES_TEST_URL", DEFAULT_URL)
    if url == "off":
        pytest.skip("POSTGRES_TEST_URL=off")
    try:
        psycopg.connect(_conninfo(url), connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        config = dj_database_url.parse(url)
        pytest.fail(
            f"PostgreSQL at {config['HOST']}:{config['PORT']} is unreachable ({exc}). `make test` installs "
            "and starts it; POSTGRES_TEST_URL points elsewhere.",
            pytrace=False,
        )
    return url


def _conninfo(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """A new empty database named `<prefix>_<pid>` (parallel runs never share one), dropped after."""
    url = server_url()
    name = f"{prefix}_{os.getpid()}"
    with psycopg.connect(_conninfo(url), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(_conninfo(url), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
