"""Raw-event export throughput and memory: seed N rows (default 5M) into a fresh embedded engine,
then run one export job through the worker's code path (claim, heartbeat, stream, finish) and
print rows/s and the peak RSS growth of this process (which hosts chDB, as the server does).

Then streams the same rows as the engine's own CSV output (the export's columns, bound filters and
range at once, without the ORDER BY or CVAT's rendering, to /dev/null) and prints that rate beside
the export's: the ceiling of any export on this engine.

Targets: >= 500k rows/s, >= 40% of the engine's own CSV rate, and < 200 MiB peak RSS growth.

Run: `.venv/bin/python bench/export_throughput.py [--rows N] [--format csv|jsonl|parquet] [--org-id N]`
(without --org-id it exports everything, the superuser's case: the worst one, every window is
sorted; with it ClickHouse reads the (org_id, timestamp) key in order).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

from _setup import configure

SEED_SQL = """
INSERT INTO events
    (scope, obj_name, obj_id, obj_val, source, timestamp, count, duration, project_id, task_id, job_id,
     user_id, user_name, user_email, org_id, org_slug, payload, access_token_id, remote_addr, event_id)
SELECT
    ['draw:object', 'change:frame', 'save:job', 'send:working_time', 'update:job',
     'click:element'][number % 6 + 1],
    if(number % 3 = 0, NULL, 'rectangle'),
    number % 100000,
    if(number % 7 = 0, toString(number % 500), NULL),
    if(number % 5 = 0, 'server', 'client'),
    toDateTime64('2026-01-01 00:00:00', 3, 'UTC')
        + toIntervalMillisecond(intDiv(number * {span_ms:UInt64}, {rows:UInt64})),
    1,
    number % 2000,
    1 + number % 20,
    100 + number % 400,
    1000 + number % 4000,
    number % 300,
    concat('annotator', toString(number % 300)),
    concat('annotator', toString(number % 300), '@example.com'),
    1 + number % 5,
    concat('org-', toString(1 + number % 5)),
    concat('{"frame":', toString(number % 5000),
           ',"request":{"id":"', toString(generateUUIDv4(number)), '"}}'),
    NULL,
    '10.0.0.1',
    generateUUIDv4(number)
FROM numbers({rows:UInt64})
"""
SPAN = timedelta(days=30)
START = datetime(2026, 1, 1, tzinfo=UTC)


def memory(field: str) -> int:
    """A /proc/self/status field in KiB (VmRSS, VmHWM)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False when not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


class Sampler(threading.Thread):
    """Samples VmRSS every few ms: the peak even where VmHWM cannot be reset."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = memory("VmRSS")
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.005):
            self.peak = max(self.peak, memory("VmRSS"))


def seed(rows: int) -> None:
    """Runs in a child process, so that seeding's memory is not counted against the export."""
    configure("export")
    from store.client import get_client
    from store.migrations_runner import migrate

    client = get_client()
    migrate(client)
    client.command("TRUNCATE TABLE events")
    started = time.perf_counter()
    client.command(
        SEED_SQL,
        parameters={"rows": rows, "span_ms": int(SPAN.total_seconds() * 1000)},
        settings={"max_insert_threads": 2},
    )
    client.command("OPTIMIZE TABLE events FINAL")
    count = client.query("SELECT count() FROM events").result_rows[0][0]
    print(f"seeded {count:,} rows in {time.perf_counter() - started:.1f}s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--format", choices=("csv", "jsonl", "parquet"), default="csv")
    parser.add_argument("--org-id", type=int, default=None)
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        seed(args.rows)
        return

    keep = bool(os.environ.get("ANALYTICS_DATA_DIR"))  # a directory of one's own is left alone
    data_dir = configure("export")
    try:
        run(args, data_dir)
    finally:
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)


def run(args: argparse.Namespace, data_dir) -> None:
    subprocess.run(
        [sys.executable, __file__, "--seed-only", "--rows", str(args.rows)],
        check=True,
        env={**os.environ, "ANALYTICS_DATA_DIR": str(data_dir)},
    )

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from exports import service
    from exports.models import ExportJob
    from exports.params import ExportRequest
    from exports.query import CHUNK_BYTES, ExportSpec, export_params, select_sql
    from exports.worker import run_pending
    from store.client import get_client

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench")
    client = get_client()
    client.query("SELECT count() FROM events WHERE org_id = 1")  # the engine is up, as in a server
    spec = ExportSpec(since=START, to=START + SPAN, format=args.format, filters={"org_id": args.org_id})
    job = service.enqueue(user, ExportRequest(spec=spec, filename=f"bench.{args.format}"), "job")

    exact_peak = reset_peak()
    baseline = memory("VmRSS")
    sampler = Sampler()
    sampler.start()
    started = time.perf_counter()
    run_pending()
    elapsed = time.perf_counter() - started
    sampler.done.set()
    sampler.join()
    peak = max(memory("VmHWM") if exact_peak else 0, sampler.peak)

    # The engine's own CSV output of the same rows: one unsorted stream, nothing else.
    # (the exported columns as they are, written by the engine's CSV format: not CVAT's bytes).
    plain = select_sql(spec, "jsonl")
    engine_sql = plain.replace("ORDER BY timestamp", "")
    if engine_sql == plain:
        raise SystemExit("the export SQL changed: update the engine reference query")
    engine_started = time.perf_counter()
    stream = client.raw_stream(engine_sql, parameters=export_params(spec), fmt="CSV")
    with open(os.devnull, "wb") as sink:
        while chunk := stream.read(CHUNK_BYTES):
            sink.write(chunk)
    stream.close()
    engine_elapsed = time.perf_counter() - engine_started

    job = ExportJob.objects.get(pk=job.pk)
    if job.status != "finished":
        raise SystemExit(f"export {job.status}: {job.error}")
    size = os.path.getsize(job.file_path)
    rate = job.rows / elapsed
    engine_rate = job.rows / engine_elapsed
    growth_mib = (peak - baseline) / 1024
    scope = f"org_id={args.org_id}" if args.org_id is not None else "all events (superuser)"
    print(
        f"data dir: {data_dir} (deleted at exit unless ANALYTICS_DATA_DIR was set); "
        f"engine {client.server_version}"
    )
    print(f"export: {job.rows:,} rows, {args.format}, {scope} -> {size / 2**20:,.0f} MiB file")
    print(
        f"time:   {elapsed:.2f}s  ->  {rate:,.0f} rows/s   (target >= 500,000)  "
        f"{'OK' if rate >= 500_000 else 'MISSED'}"
    )
    share = rate / engine_rate
    print(
        f"engine: {engine_elapsed:.2f}s  ->  {engine_rate:,.0f} rows/s (its own unsorted CSV, same rows); "
        f"export/engine {share:.0%}   (target >= 40%)  {'OK' if share >= 0.4 else 'MISSED'}"
    )
    print(
        f"memory: baseline RSS {baseline / 1024:,.0f} MiB, peak {peak / 1024:,.0f} MiB  ->  growth "
        f"{growth_mib:,.0f} MiB   (target < 200)  {'OK' if growth_mib < 200 else 'MISSED'}"
        f"{'' if exact_peak else '  [VmHWM not resettable: sampled peak]'}"
    )


if __name__ == "__main__":
    main()
