"""The one seam to ClickHouse: a clickhouse-connect client built from CLICKHOUSE_URL.

`chdb:///path` opens the embedded engine in this process; `http(s)://user:pass@host:8123/db`
talks to a server. Nothing outside this module knows which one it is.
"""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from django.conf import settings


class EngineBusyError(RuntimeError):
    """The embedded engine's directory is locked by another process (usually the running server)."""


_lock = threading.Lock()
_client: Client | None = None
# Embedded engine directories this process has opened: asking their file lock again would find
# our own lock and mistake it for another process's.
_opened_here: set[str] = set()


def describe(url: str) -> str:
    """The URL without credentials, for messages and logs."""
    parsed = urlparse(url)
    if parsed.scheme == "chdb":
        return f"embedded ClickHouse (chDB) at {parsed.path}"
    host = parsed.hostname or "?"
    port = f":{parsed.port}" if parsed.port else ""
    return f"ClickHouse server {parsed.scheme}://{host}{port}{parsed.path}"


def is_embedded(url: str | None = None) -> bool:
    return urlparse(url or settings.CLICKHOUSE_URL).scheme == "chdb"


def database_name(url: str | None = None) -> str:
    parsed = urlparse(url or settings.CLICKHOUSE_URL)
    if parsed.scheme == "chdb":
        return parse_qs(parsed.query).get("database", ["default"])[0]
    return parsed.path.strip("/") or "default"


def _busy(url: str) -> EngineBusyError:
    return EngineBusyError(
        f"The {describe(url)} is in use by another process (most likely the running server). "
        "Stop the server first, or use the server's API for this."
    )


def _engine_locked_elsewhere(path: str) -> bool:
    """ClickHouse holds an exclusive flock on <path>/status while it runs. Asking first avoids
    chDB's own multi-line failure on stderr; flock locks are per open file, so our own open
    engine (same process, other descriptor) would also answer "locked": only ask before opening."""
    status = Path(path) / "status"
    if not status.exists():
        return False
    with open(status, "rb") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def _chain(exc: BaseException) -> Iterator[BaseException]:
    while exc is not None:
        yield exc
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]


def _open(url: str, database: str | None) -> Client:
    kwargs: dict = {"database": database}
    parsed = urlparse(url)
    if parsed.scheme == "chdb":
        if parsed.path and parsed.path not in _opened_here and _engine_locked_elsewhere(parsed.path):
            raise _busy(url)
    else:
        # Threads share the client; a shared session id would make concurrent queries fail.
        kwargs.update(autogenerate_session_id=False, connect_timeout=10, send_receive_timeout=300)
    try:
        client = clickhouse_connect.get_client(dsn=url, **kwargs)
    except Exception as exc:
        if any("Cannot lock file" in str(e) for e in _chain(exc)):
            raise _busy(url) from exc
        raise
    if parsed.scheme == "chdb" and parsed.path:
        _opened_here.add(parsed.path)
    return client


def get_client() -> Client:
    """The process-wide client; threads share it. The database is created on first use."""
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                url = settings.CLICKHOUSE_URL
                database = database_name(url)
                # Connect to `default` first: the URL's database may not exist yet.
                bootstrap = _open(url, "default")
                bootstrap.command(f"CREATE DATABASE IF NOT EXISTS `{database}`")
                if database == "default":
                    _client = bootstrap
                else:
                    bootstrap.close()
                    _client = _open(url, database)
    return _client


def open_dedicated_client() -> Client:
    """A connection of its own, for work that must not share the process-wide client: a long
    streaming read holds its chDB connection. The caller closes it. With a server URL this is an
    ordinary second client."""
    get_client()  # the database exists and, embedded, this process holds the engine
    url = settings.CLICKHOUSE_URL
    return _open(url, database_name(url))


def reset_client() -> None:
    global _client
    with _lock:
        if _client is not None:
            _client.close()
        _client = None
