"""Writing an export file by streaming ClickHouse's own output formats, never the result in memory.

An export is cut into time windows of about WINDOW_ROWS rows (one cheap planning query counts rows
per minute): each window is one `... ORDER BY timestamp` query whose output is copied to the file
chunk by chunk, so ClickHouse sorts one window at a time (bounded memory; with chDB that is this
process's memory) and the row count, hence the progress, is known up front. CSV and JSONEachRow
chunks concatenate into one valid file. Parquet does not: see write_parquet.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from clickhouse_connect.driver.client import Client

from events.record import format_timestamp
from store import client as store_client
from store.schema import EVENTS
from store.sql import EXPORT_FILTER_COLUMNS, export_filter_params, load_sql

# CVAT's export columns, in CVAT's order: the events table's columns (same order) without
# remote_addr, which is never exported, and event_id, which is ours, not CVAT's (the `exported`
# flag of store/schema.py's definition; export_events.sql selects exactly these, a test checks).
EXPORT_COLUMNS: tuple[str, ...] = tuple(c.name for c in EVENTS.columns if c.exported)
FILTER_COLUMNS: tuple[str, ...] = EXPORT_FILTER_COLUMNS
FORMATS: tuple[str, ...] = ("csv", "jsonl", "parquet")
EXTENSIONS = {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet"}
CONTENT_TYPES = {
    "csv": "text/csv",
    "jsonl": "application/jsonl",
    "parquet": "application/vnd.apache.parquet",
}
# CVAT writes its CSV with Python's csv module (default dialect): CRLF line ends.
CSV_HEADER = (",".join(EXPORT_COLUMNS) + "\r\n").encode()

# Rows per window: ClickHouse sorts this many rows in memory at a time (~25 MiB).
WINDOW_ROWS = 100_000
CHUNK_BYTES = 1 << 20
_COLUMNS_MARKER = "/*columns*/"

# --- CVAT's CSV, byte for byte ------------------------------------------------------------------
# CVAT (cvat/apps/events/export.py) reads rows with clickhouse-connect and writes them with
# `csv.writer(f)`: each value is str() of the Python object (None -> empty), a field is quoted
# only when it holds `,` `"` CR or LF (doubling its quotes), lines end in CRLF, and the
# timestamp is str() of an aware datetime: `2024-01-01 12:00:00.123000+00:00`, or without the
# fraction when the milliseconds are 0. ClickHouse renders each row that way itself (one String
# per row), so an export still streams from the engine at its speed. The lines travel as
# TabSeparated, one of the formats the embedded engine streams (TabSeparatedRaw would be buffered
# whole, a window at a time: +150 MiB on an export), and TsvUnescaper turns them back into the
# raw lines on the way to the file.
# Columns that hold text (str() is the value itself), from the table's definition.
_TEXT_COLUMNS = frozenset(c.name for c in EVENTS.columns if c.exported and "String" in c.type)
_CSV_MILLIS = "(toUnixTimestamp64Milli(timestamp) % 1000)"
_CSV_TIMESTAMP = (
    "concat(formatDateTime(timestamp, '%Y-%m-%d %H:%i:%S', 'UTC'), "
    f"if({_CSV_MILLIS} = 0, '', concat('.', leftPad(toString({_CSV_MILLIS} * 1000), 6, '0'))), "
    "'+00:00')"
)


def _csv_field(column: str) -> str:
    """The SQL expression that renders one exported column as csv.writer would."""
    if column == "timestamp":
        return _CSV_TIMESTAMP
    if column in _TEXT_COLUMNS:
        text = f"toString(ifNull({column}, ''))"
        return (
            f"if(multiSearchAny({text}, [',', '\"', '\\r', '\\n']), "
            f"concat('\"', replaceAll({text}, '\"', '\"\"'), '\"'), {text})"
        )
    return f"ifNull(toString({column}), '')"


# The whole line; TabSeparated ends it with LF (made CRLF, and the escaping undone, below).
_CSV_LINE = "concat(" + ", ',', ".join(_csv_field(c) for c in EXPORT_COLUMNS) + ") AS line"

# Engine settings, fixed constants (never user input), written as a SETTINGS clause: chDB streams a
# result only when no per-call settings are passed, and SETTINGS inside the query is the same thing
# for a ClickHouse server.
_ENGINE_SETTINGS: dict[str, Any] = {
    # An export is background work: two threads at most (reading and sorting a window), so the
    # server stays responsive; memory is the window's, whatever the thread count.
    "max_threads": 2,
    "max_block_size": 8192,
    # A window, or a Parquet export on a ClickHouse server, larger than this is sorted on disk.
    "max_bytes_before_external_sort": 64 << 20,
}
# Only for the embedded engine, whose version is ours (a server may predate these settings).
_EMBEDDED_SETTINGS: dict[str, Any] = {
    # Otherwise a ratio of the memory limit decides, and chDB has none: the byte limit applies.
    "max_bytes_ratio_before_external_sort": 0,
    "min_external_sort_block_bytes": 8 << 20,
}


def _engine_settings() -> dict[str, Any]:
    return {**_ENGINE_SETTINGS, **(_EMBEDDED_SETTINGS if store_client.is_embedded() else {})}


_FORMAT_SETTINGS: dict[str, dict[str, Any]] = {
    "jsonl": {
        "date_time_output_format": "iso",
        "output_format_json_quote_64bit_integers": 0,
    },
    "parquet": {
        "output_format_parquet_row_group_size": 65_536,
        "output_format_parquet_row_group_size_bytes": 16 << 20,
        "output_format_parquet_parallel_encoding": 0,
    },
}
_CLICKHOUSE_FORMAT = {
    "csv": "TabSeparated",  # of the rendered lines (_CSV_LINE), unescaped by TsvUnescaper
    "jsonl": "JSONEachRow",
    "parquet": "Parquet",
    "Native": "Native",
}


def _settings_clause(values: dict[str, Any]) -> str:
    parts = []
    for key, value in values.items():
        literal = f"'{value}'" if isinstance(value, str) else str(int(value))
        parts.append(f"{key} = {literal}")
    return " SETTINGS " + ", ".join(parts)


def floor_ms(moment: datetime) -> datetime:
    """UTC, truncated to the millisecond: events are stored as DateTime64(3)."""
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@dataclass(frozen=True)
class ExportSpec:
    """What one export contains: the time range (both ends included) and the equality filters."""

    since: datetime
    to: datetime
    format: str = "csv"
    filters: dict[str, int | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"unknown export format {self.format!r}")
        unknown = set(self.filters) - set(FILTER_COLUMNS)
        if unknown:
            raise ValueError(f"unknown export filters: {sorted(unknown)}")
        object.__setattr__(self, "since", floor_ms(self.since))
        object.__setattr__(self, "to", floor_ms(self.to))

    @property
    def until(self) -> datetime:
        """The exclusive end: `to` plus one millisecond."""
        return self.to + timedelta(milliseconds=1)

    @property
    def active_filters(self) -> dict[str, int]:
        return {name: value for name, value in self.filters.items() if value is not None}

    def to_json(self) -> dict[str, Any]:
        return {
            **{name: self.filters.get(name) for name in FILTER_COLUMNS},
            "from": self.since.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "to": self.to.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], format: str) -> ExportSpec:
        return cls(
            since=datetime.fromisoformat(data["from"]),
            to=datetime.fromisoformat(data["to"]),
            format=format,
            filters={name: data.get(name) for name in FILTER_COLUMNS},
        )


def _params(spec: ExportSpec, since: datetime, until: datetime) -> dict[str, Any]:
    return {
        **export_filter_params(spec.filters),
        "since": format_timestamp(since),
        "until": format_timestamp(until),
    }


def export_params(spec: ExportSpec) -> dict[str, Any]:
    """The bound parameters of the whole export's range and filters."""
    return _params(spec, spec.since, spec.until)


def select_sql(spec: ExportSpec, output: str | None = None) -> str:
    """The export's SELECT for one output format (default: the spec's own), settings included."""
    output = output or spec.format
    settings_ = {**_engine_settings(), **_FORMAT_SETTINGS.get(output, {})}
    sql = load_sql("queries/export_events.sql").rstrip().rstrip(";")
    return render_columns(sql, output) + _settings_clause(settings_)


def render_columns(sql: str, output: str) -> str:
    """An export SQL with its /*columns*/ filled: the exported columns, or CVAT's CSV line."""
    if _COLUMNS_MARKER not in sql:
        raise RuntimeError("export SQL lost its /*columns*/ marker")
    return sql.replace(_COLUMNS_MARKER, _CSV_LINE if output == "csv" else ", ".join(EXPORT_COLUMNS))


@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime
    rows: int


def plan(client: Client, spec: ExportSpec, window_rows: int | None = None) -> list[Window]:
    """The export cut into consecutive time windows of about `window_rows` rows each."""
    window_rows = window_rows or WINDOW_ROWS
    sql = load_sql("queries/export_events_plan.sql")
    params = {**_params(spec, spec.since, spec.until), "window_rows": window_rows}
    rows = client.query(sql, parameters=params).result_rows
    windows: list[Window] = []
    for index, (start, count) in enumerate(rows):
        since = spec.since if index == 0 else datetime.fromtimestamp(start, UTC)
        until = spec.until if index == len(rows) - 1 else datetime.fromtimestamp(rows[index + 1][0], UTC)
        windows.append(Window(since=since, until=until, rows=int(count)))
    return windows


def count_rows(client: Client, spec: ExportSpec) -> int:
    return sum(window.rows for window in plan(client, spec, window_rows=1 << 62))


@contextmanager
def export_client() -> Iterator[Client]:
    """The client an export streams on. With the embedded engine that is a connection of its own:
    an open chDB stream holds its connection, and the shared one serves ingestion and the API."""
    shared = store_client.get_client()  # creates the database; EngineBusyError if held elsewhere
    if not store_client.is_embedded():
        yield shared
        return
    dedicated = store_client.open_dedicated_client()
    try:
        yield dedicated
    finally:
        dedicated.close()


# progress(rows done so far, total rows)
ProgressCallback = Callable[[int, int], None]


def _noop(done: int, total: int) -> None:
    return None


# ClickHouse's TabSeparated escapes, other than the escaped backslash itself.
_TSV_ESCAPES = (
    (b"\\n", b"\n"),
    (b"\\r", b"\r"),
    (b"\\t", b"\t"),
    (b"\\0", b"\0"),
    (b"\\b", b"\b"),
    (b"\\f", b"\f"),
    (b"\\a", b"\a"),
    (b"\\v", b"\v"),
    (b"\\'", b"'"),
)


class TsvUnescaper:
    """Turns the TabSeparated output of one String column back into raw CRLF-ended lines, chunk
    by chunk, with bytes methods only (C speed). Row ends are the only raw LFs in that output; a
    chunk that ends inside an escape keeps its tail for the next one."""

    def __init__(self) -> None:
        self._tail = b""

    @staticmethod
    def _convert(data: bytes) -> bytes:
        data = data.replace(b"\n", b"\r\n")
        if b"\\" not in data:
            return data
        # Escaped backslashes pair up left to right; between them every backslash starts one
        # of the other escapes, whose replacements cannot form new ones.
        parts = data.split(b"\\\\")
        for index, part in enumerate(parts):
            if b"\\" in part:
                for escaped, raw in _TSV_ESCAPES:
                    part = part.replace(escaped, raw)
                parts[index] = part
        return b"\\".join(parts)

    def feed(self, chunk: bytes) -> bytes:
        data = self._tail + chunk
        # An odd run of backslashes at the end is an escape cut in two.
        trailing = len(data) - len(data.rstrip(b"\\"))
        cut = len(data) - 1 if trailing % 2 else len(data)
        self._tail = data[cut:]
        return self._convert(data[:cut])

    def flush(self) -> bytes:
        data, self._tail = self._tail, b""
        return self._convert(data)


def stream_windows(
    client: Client,
    spec: ExportSpec,
    out: IO[bytes],
    output: str,
    progress: ProgressCallback = _noop,
    window_rows: int | None = None,
) -> int:
    """Write the export to `out` in a ClickHouse format whose chunks concatenate (CSV, JSONEachRow,
    Native), window by window, each window sorted on its own; returns the rows written."""
    windows = plan(client, spec, window_rows)
    total = sum(window.rows for window in windows)
    progress(0, total)
    sql = select_sql(spec, output)
    fmt = _CLICKHOUSE_FORMAT.get(output, output)
    done = 0
    for window in windows:
        stream = client.raw_stream(sql, parameters=_params(spec, window.since, window.until), fmt=fmt)
        unescaper = TsvUnescaper() if output == "csv" else None
        try:
            while chunk := stream.read(CHUNK_BYTES):
                out.write(unescaper.feed(chunk) if unescaper is not None else chunk)
            if unescaper is not None:
                out.write(unescaper.flush())
        finally:
            stream.close()
        done += window.rows
        progress(done, total)
    return done


def stream_lines(
    client: Client,
    spec: ExportSpec,
    out: IO[bytes],
    progress: ProgressCallback = _noop,
    window_rows: int | None = None,
) -> int:
    """Write a CSV (CVAT's header first) or JSON-lines export to `out`; returns the rows written."""
    if spec.format not in ("csv", "jsonl"):
        raise ValueError(f"{spec.format} is not a line format")
    if spec.format == "csv":
        out.write(CSV_HEADER)
    return stream_windows(client, spec, out, spec.format, progress, window_rows)


def _quote_path(path: Path) -> str:
    return "'" + str(path).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _structure(client: Client) -> str:
    """The exported columns with the types of the events table, as a file() structure literal."""
    types = dict(client.query(load_sql("queries/export_columns.sql")).result_rows)
    structure = ", ".join(f"{name} {types[name]}" for name in EXPORT_COLUMNS)
    return "'" + structure.replace("\\", "\\\\").replace("'", "\\'") + "'"


def write_parquet(
    client: Client,
    spec: ExportSpec,
    path: Path,
    progress: ProgressCallback = _noop,
    window_rows: int | None = None,
) -> int:
    """Write a Parquet export to `path`; returns the rows written.

    Embedded engine: the sorted windows are spooled to a Native file next to `path`, which the
    engine then turns into Parquet reading it in order (one thread, no sort), so memory stays that
    of one window plus one row group. A ClickHouse server sorts (externally if need be) and
    streams the Parquet file itself: its memory, not ours."""
    if not store_client.is_embedded():
        total = count_rows(client, spec)
        progress(0, total)
        stream = client.raw_stream(
            select_sql(spec), parameters=_params(spec, spec.since, spec.until), fmt="Parquet"
        )
        try:
            with open(path, "wb") as out:
                while chunk := stream.read(CHUNK_BYTES):
                    out.write(chunk)
        finally:
            stream.close()
        progress(total, total)
        return total

    spool = path.with_name(path.name + ".native.part")
    try:
        with open(spool, "wb") as out:
            # Spooling is about half the work: report half the rows meanwhile.
            rows = stream_windows(
                client, spec, out, "Native", lambda done, total: progress(done // 2, total), window_rows
            )
        # INTO OUTFILE takes a literal path (no bound parameter); both paths are ours, quoted.
        convert = {
            **_engine_settings(),
            **_FORMAT_SETTINGS["parquet"],
            # One thread reads the spool, so the rows stay in its (sorted) order; pread, not mmap,
            # so the spool's pages are not counted in this process's memory.
            "max_threads": 1,
            "storage_file_read_method": "pread",
        }
        client.command(
            f"SELECT * FROM file({_quote_path(spool)}, Native, {_structure(client)})"
            f" INTO OUTFILE {_quote_path(path)} TRUNCATE FORMAT Parquet{_settings_clause(convert)}"
        )
    finally:
        spool.unlink(missing_ok=True)
    progress(rows, rows)
    return rows


def write_export(
    spec: ExportSpec, path: Path, progress: ProgressCallback = _noop, window_rows: int | None = None
) -> int:
    """Write the export to `path` (created or truncated); returns the rows written."""
    with export_client() as client:
        if spec.format == "parquet":
            return write_parquet(client, spec, path, progress, window_rows)
        with open(path, "wb") as out:
            rows = stream_lines(client, spec, out, progress, window_rows)
            out.flush()
            os.fsync(out.fileno())
        return rows


def write_export_to(spec: ExportSpec, out: IO[bytes], progress: ProgressCallback = _noop) -> int:
    """Write the export to an open binary stream (the CLI's stdout)."""
    if spec.format != "parquet":
        with export_client() as client:
            return stream_lines(client, spec, out, progress)
    # The engine writes Parquet to a file; then it is copied to `out`.
    handle, name = tempfile.mkstemp(prefix="events-export-", suffix=".parquet")
    os.close(handle)
    try:
        rows = write_export(spec, Path(name), progress)
        with open(name, "rb") as source:
            shutil.copyfileobj(source, out, CHUNK_BYTES)
        return rows
    finally:
        Path(name).unlink(missing_ok=True)
