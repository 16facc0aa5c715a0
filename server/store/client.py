"""The one seam to ClickHouse: a clickhouse-connect client built from CLICKHOUSE_URL.

`chdb:///path` opens the embedded engine in this process; `http(s)://user:pass@host:8123/db`
talks to a server. Nothing outside this module knows which one it is.
"""

from __future__ import annotations

import threading
from urllib.parse import parse_qs, urlparse

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from django.conf import settings


class EngineBusyError(RuntimeError):
    """The embedded engine's directory is locked by another process (usually the running server)."""


_lock = threading.Lock()
_client: Client | None = None


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


def _open(url: str, database: str | None) -> Client:
    kwargs: dict = {"database": database}
    if urlparse(url).scheme != "chdb":
        # Threads share the client; a shared session id would make concurrent queries fail.
        kwargs.update(autogenerate_session_id=False, connect_timeout=10, send_receive_timeout=300)
    try:
        return clickhouse_connect.get_client(dsn=url, **kwargs)
    except Exception as exc:
        if "Cannot lock file" in str(exc) or "already in use" in str(exc):
            raise EngineBusyError(
                f"The {describe(url)} is in use by another process (most likely the running server). "
                "Stop the server first, or use the server's API for this."
            ) from exc
        raise


def get_client() -> Client:
    """The process-wide client; threads share it. The database is created on first use."""
    global _client
    if _client is None:
        with _lock:
            if _client is None:
                url = settings.CLICKHOUSE_URL
                database = database_name(url)
                bootstrap = _open(url, None)
                bootstrap.command(f"CREATE DATABASE IF NOT EXISTS `{database}`")
                _client = bootstrap if database == "default" else _open(url, database)
    return _client


def reset_client() -> None:
    global _client
    with _lock:
        if _client is not None:
            _client.close()
        _client = None
