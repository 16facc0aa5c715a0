"""components/vector/vector.yaml: checked here because no Vector binary runs in CI.

The checks tie the config to the things it must agree with: the `events` table
(the rendered CREATE TABLE of store.schema.EVENTS and events.record.EVENT_COLUMNS), the documented environment
(docs/settings.md), and the body the server's VectorSink actually sends.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from events.record import EVENT_COLUMNS, EventRecord
from shipping.sinks import INSERT_SETTINGS, SinkError, VectorSink
from store.ddl import SINGLE_NODE
from store.schema import EVENTS

ROOT = Path(__file__).resolve().parents[1]
CONFIG_PATH = ROOT / "components" / "vector" / "vector.yaml"
SETTINGS_DOC_PATH = ROOT / "docs" / "settings.md"

SOURCE = "events_http"
SINK = "clickhouse_events"
# The variables the server, docker-compose and this config agree on; nothing else may be referenced.
AGREED_ENV_VARS = {
    "CLICKHOUSE_HOST",
    "CLICKHOUSE_PORT",
    "CLICKHOUSE_DB",
    "CLICKHOUSE_USER",
    "CLICKHOUSE_PASSWORD",
    "VECTOR_HTTP_PORT",
}
# Vector's documented floor for `buffer.max_size` of a disk buffer (~256 MiB).
DISK_BUFFER_MIN_BYTES = 268_435_488

# Vector's interpolation grammar (src/config/vars.rs): `$$` escapes, `$NAME`, `${NAME}`, and
# `${NAME:-default}` / `${NAME-default}` / `${NAME:?error}` / `${NAME?error}`. Vector applies it to
# the raw text before parsing, comments included, so scanning the raw text is the faithful check.
VECTOR_VAR = re.compile(r"\$\$|\$([\w.]+)|\$\{([\w.]+)(?:(:?-|:?\?)([^}]*))?\}")


def interpolate(text: str, env: dict[str, str]) -> str:
    """What Vector does to the file before parsing it (an unset plain reference is an error since 0.38)."""
    errors: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name is None:
            return "$"
        flag, arg = match.group(3) or "", match.group(4) or ""
        value = env.get(name)
        if flag == ":-":
            return value if value else arg
        if flag == "-":
            return arg if value is None else value
        if (flag == ":?" and not value) or (flag == "?" and value is None):
            errors.append(f"{name}: {arg}")
            return ""
        if not flag and value is None:
            errors.append(f"{name}: unset")
            return ""
        return value or ""

    result = VECTOR_VAR.sub(replace, text)
    if errors:
        raise ValueError("; ".join(errors))
    return result


def referenced_env_vars(text: str) -> set[str]:
    return {m.group(1) or m.group(2) for m in VECTOR_VAR.finditer(text) if m.group(0) != "$$"}


@pytest.fixture(scope="module")
def raw_config() -> str:
    return CONFIG_PATH.read_text()


@pytest.fixture(scope="module")
def config(raw_config: str) -> dict[str, Any]:
    return yaml.safe_load(raw_config)


@pytest.fixture(scope="module")
def source(config: dict[str, Any]) -> dict[str, Any]:
    return config["sources"][SOURCE]


@pytest.fixture(scope="module")
def sink(config: dict[str, Any]) -> dict[str, Any]:
    return config["sinks"][SINK]


def events_table_columns() -> list[str]:
    """Column names of `CREATE TABLE ... events (...)`, in order, from the migration's SQL."""
    sql = EVENTS.create(SINGLE_NODE)[0]
    create = re.search(r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`?events`?\s*\(", sql, re.IGNORECASE)
    assert create, "no CREATE TABLE events in the rendered schema"
    depth, start, body = 1, create.end(), None
    for i in range(start, len(sql)):
        depth += {"(": 1, ")": -1}.get(sql[i], 0)
        if depth == 0:
            body = sql[start:i]
            break
    assert body is not None, "unbalanced parentheses in CREATE TABLE events"
    elements, depth, current = [], 0, []
    for char in body:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            elements.append("".join(current))
            current = []
        else:
            current.append(char)
    elements.append("".join(current))
    # Column definitions start with the backticked name; INDEX/PROJECTION/CONSTRAINT entries don't.
    return [m.group(1) for e in elements if (m := re.match(r"\s*`([^`]+)`", e))]


def test_source_is_an_http_server_that_splits_a_json_array_into_events(source: dict[str, Any]) -> None:
    assert source["type"] == "http_server"
    assert re.fullmatch(r"0\.0\.0\.0:\$\{VECTOR_HTTP_PORT:-8282\}", source["address"]), source["address"]
    assert source["path"] == "/events"
    assert source.get("strict_path", True) is True
    assert source.get("method", "POST") == "POST"
    # The whole body is one frame and a root JSON array becomes one event per element.
    assert source["decoding"]["codec"] == "json"
    assert source["framing"]["method"] == "bytes"


def test_the_source_is_acknowledged_end_to_end(config: dict[str, Any]) -> None:
    # Vector documents the source-level `acknowledgements` as deprecated and without effect: what makes
    # the HTTP response wait is acknowledgements on every sink the source feeds (or the global switch).
    global_acks = (config.get("acknowledgements") or {}).get("enabled", False)
    fed = {name: s for name, s in config["sinks"].items() if SOURCE in s.get("inputs", [])}
    assert fed, f"no sink consumes {SOURCE}"
    for name, s in fed.items():
        enabled = (s.get("acknowledgements") or {}).get("enabled", global_acks)
        assert enabled is True, f"sink {name} does not acknowledge: a 2xx would not mean delivered"


def test_sink_is_clickhouse_with_a_blocking_disk_buffer_and_acknowledgements(
    config: dict[str, Any], sink: dict[str, Any]
) -> None:
    assert sink["type"] == "clickhouse"
    assert sink["table"] == "events"
    assert sink["format"] == "json_each_row"
    assert sink["auth"]["strategy"] == "basic"
    assert sink["acknowledgements"]["enabled"] is True
    buffer = sink["buffer"]
    assert buffer["type"] == "disk"
    assert buffer["when_full"] == "block"
    assert buffer["max_size"] >= DISK_BUFFER_MIN_BYTES
    assert config["data_dir"].startswith("/"), "the disk buffer needs data_dir on a volume"


def test_sink_inserts_like_the_direct_path(sink: dict[str, Any]) -> None:
    assert sink["query_settings"]["async_insert_settings"]["enabled"] is False
    assert sink["skip_unknown_fields"] is bool(INSERT_SETTINGS["input_format_skip_unknown_fields"])
    # A finite retry budget would drop events that were already acknowledged from the disk buffer.
    assert "retry_attempts" not in sink.get("request", {})
    assert 0 < sink["batch"]["max_events"] <= 10_000
    assert 0 < sink["batch"]["timeout_secs"] <= 5


def test_every_sink_input_names_an_existing_component(config: dict[str, Any]) -> None:
    known = set(config.get("sources", {})) | set(config.get("transforms") or {})
    for name, s in config["sinks"].items():
        assert s["inputs"], f"sink {name} has no inputs"
        missing = set(s["inputs"]) - known
        assert not missing, f"sink {name} reads from unknown components {sorted(missing)}"


def test_only_fields_are_exactly_the_events_table_columns(sink: dict[str, Any]) -> None:
    table_columns = events_table_columns()
    assert len(table_columns) == len(set(table_columns))
    assert set(table_columns) == set(EVENT_COLUMNS), (
        "store.schema.EVENTS and events.record.EVENT_COLUMNS disagree: "
        f"only in SQL {sorted(set(table_columns) - set(EVENT_COLUMNS))}, "
        f"only in EVENT_COLUMNS {sorted(set(EVENT_COLUMNS) - set(table_columns))}"
    )
    only_fields = sink["encoding"]["only_fields"]
    assert len(only_fields) == len(set(only_fields)), "duplicate entries in only_fields"
    assert set(only_fields) == set(table_columns), (
        f"missing {sorted(set(table_columns) - set(only_fields))}, "
        f"not columns {sorted(set(only_fields) - set(table_columns))}"
    )


def test_only_the_agreed_env_vars_are_referenced(raw_config: str) -> None:
    assert referenced_env_vars(raw_config) == AGREED_ENV_VARS


def test_every_env_var_is_documented_in_settings_md(raw_config: str) -> None:
    if not SETTINGS_DOC_PATH.exists():
        pytest.fail(
            f"{SETTINGS_DOC_PATH.relative_to(ROOT)} does not exist yet: it must document every variable "
            f"vector.yaml reads ({', '.join(sorted(referenced_env_vars(raw_config)))})"
        )
    documented = set(
        re.findall(r"^\|\s*`([A-Za-z_][A-Za-z0-9_.]*)`\s*\|", SETTINGS_DOC_PATH.read_text(), re.M)
    )
    undocumented = referenced_env_vars(raw_config) - documented
    assert not undocumented, f"not documented in docs/settings.md: {sorted(undocumented)}"


def test_config_parses_after_vector_interpolation(raw_config: str) -> None:
    env = {
        "CLICKHOUSE_HOST": "clickhouse",
        "CLICKHOUSE_PORT": "8123",
        "CLICKHOUSE_DB": "analytics",
        "CLICKHOUSE_USER": "analytics",
        "CLICKHOUSE_PASSWORD": "",
    }
    resolved = yaml.safe_load(interpolate(raw_config, env))
    assert resolved["sources"][SOURCE]["address"] == "0.0.0.0:8282"
    sink = resolved["sinks"][SINK]
    assert sink["endpoint"] == "http://clickhouse:8123"
    assert sink["database"] == "analytics"
    assert sink["auth"] == {"strategy": "basic", "user": "analytics", "password": ""}

    resolved = yaml.safe_load(interpolate(raw_config, {**env, "VECTOR_HTTP_PORT": "9000"}))
    assert resolved["sources"][SOURCE]["address"] == "0.0.0.0:9000"

    for required in ("CLICKHOUSE_HOST", "CLICKHOUSE_DB", "CLICKHOUSE_PASSWORD"):
        with pytest.raises(ValueError, match=required):
            interpolate(raw_config, {k: v for k, v in env.items() if k != required})
    with pytest.raises(ValueError, match="CLICKHOUSE_HOST"):
        interpolate(raw_config, {**env, "CLICKHOUSE_HOST": ""})


class _RecordingServer(ThreadingHTTPServer):
    """Records every request; answers each with `status` and an empty body."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Recorder)
        self.requests: list[dict[str, Any]] = []
        self.status = 200

    @property
    def port(self) -> int:
        return self.server_address[1]


class _Recorder(BaseHTTPRequestHandler):
    server: _RecordingServer

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self.server.requests.append(
            {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": self.rfile.read(length),
            }
        )
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_PUT = do_GET = _record

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[_RecordingServer]:
    server = _RecordingServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _rows() -> list[bytes]:
    moment = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
    return [
        EventRecord(
            scope="create:task",
            timestamp=moment,
            obj_name="task",
            obj_id=7,
            task_id=7,
            org_id=3,
            user_id=11,
            user_name="ann",
            payload={"frames": 10},
        ).to_row(),
        EventRecord(
            scope="update:job", timestamp=moment, source="client", job_id=5, duration=1500, count=2
        ).to_row(),
    ]


def test_vector_sink_body_is_what_the_source_accepts(
    recorder: _RecordingServer, source: dict[str, Any], sink: dict[str, Any]
) -> None:
    url = f"http://127.0.0.1:{recorder.port}{source['path']}"
    token = "ab" * 32
    VectorSink(url, timeout=5).send(b"\n".join(_rows()), token)

    assert len(recorder.requests) == 1
    request = recorder.requests[0]
    assert request["method"] == source.get("method", "POST")
    assert request["path"] == source["path"]
    assert request["headers"]["x-batch-token"] == token
    assert request["headers"]["content-type"] == "application/json"

    # framing `bytes` + codec `json`: the whole body must be one JSON document whose root is an array.
    events = json.loads(request["body"])
    assert isinstance(events, list) and len(events) == 2
    only_fields = set(sink["encoding"]["only_fields"])
    for event in events:
        assert isinstance(event, dict)
        assert set(event) <= only_fields, f"not forwarded by only_fields: {sorted(set(event) - only_fields)}"
        # Present, so Vector's JSON decoder does not stamp its own receive time; and in the form that
        # ClickHouse's default parser reads (the reason date_time_best_effort stays off).
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}", event["timestamp"])
        uuid.UUID(event["event_id"])
    assert events[0]["timestamp"] == "2026-03-01 12:30:15.123"
    assert json.loads(events[0]["payload"]) == {"frames": 10}


def test_vector_sink_raises_when_vector_does_not_answer_2xx(
    recorder: _RecordingServer, source: dict[str, Any]
) -> None:
    recorder.status = 500
    url = f"http://127.0.0.1:{recorder.port}{source['path']}"
    with pytest.raises(SinkError, match="500"):
        VectorSink(url, timeout=5).send(b"\n".join(_rows()), "cd" * 32)
    assert len(recorder.requests) == 1
