"""Shipping throughput: events/s from emit to rows in ClickHouse, spool on, at 1k and 10k batches,
and the insert rate of the same rows with and without the materialized views.

Run: `make bench-shipping` or `.venv/bin/python bench/shipping_throughput.py`.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from _setup import configure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000, help="events per run")
    parser.add_argument(
        "--emit-chunk", type=int, default=1000, help="events per emit call (one request's worth)"
    )
    args = parser.parse_args()
    data_dir = configure("shipping")

    from tqdm import tqdm

    from events.emit import emit_many
    from events.record import EventRecord
    from shipping.flusher import Flusher
    from shipping.service import get_spool
    from shipping.sinks import INSERT_SETTINGS, ClickHouseSink
    from shipping.spool import batch_token
    from store.client import get_client
    from store.migrations_runner import migrate

    client = get_client()
    migrate(client)
    base = datetime(2026, 11, 1, tzinfo=UTC)

    def records(n: int) -> list[EventRecord]:
        return [
            EventRecord(
                scope="draw:object",
                timestamp=base + timedelta(milliseconds=i),
                source="client",
                obj_name="rectangle",
                count=1,
                project_id=1,
                task_id=2,
                job_id=3 + i % 50,
                user_id=7,
                user_name="annotator",
                org_id=1,
                org_slug="acme",
                payload={"frame": i % 500},
            )
            for i in range(n)
        ]

    def rows_in_clickhouse() -> int:
        return client.query("SELECT count() FROM events").result_rows[0][0]

    print(f"data dir: {data_dir}; engine {client.server_version}; {args.events:,} events per run")
    results = []
    for batch_size in (1_000, 10_000):
        client.command("TRUNCATE TABLE events")
        flusher = Flusher(
            get_spool(),
            ClickHouseSink(),
            batch_size=batch_size,
            interval=0.05,
            max_backoff=1,
            lease_seconds=60,
        )
        prepared = records(args.events)
        flusher.start()
        started = time.perf_counter()
        with tqdm(total=args.events, desc=f"emit+ship batch={batch_size:,}", unit="ev", leave=False) as bar:
            for offset in range(0, args.events, args.emit_chunk):
                chunk = prepared[offset : offset + args.emit_chunk]
                emit_many(chunk, on_commit=False)
                bar.update(len(chunk))
        while rows_in_clickhouse() < args.events:
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
        flusher.stop()
        results.append((f"emit -> spool -> ClickHouse, batch {batch_size:,}", args.events / elapsed, elapsed))

    rows = [r.to_row() for r in records(args.events)]
    views = client.query(
        "SELECT count() FROM system.tables WHERE database = currentDatabase() AND engine = 'MaterializedView'"
    ).result_rows[0][0]
    # The same schema with no materialized view attached: the insert step on its own.
    client.command("DROP TABLE IF EXISTS events_bench_no_views")
    client.command("CREATE TABLE events_bench_no_views AS events")
    targets = (
        ("events", f"insert into events ({views} views), batch 10,000"),
        ("events_bench_no_views", "insert into events (no views), batch 10,000"),
    )
    for table, label in targets:
        client.command(f"TRUNCATE TABLE {table}")
        started = time.perf_counter()
        for offset in range(0, len(rows), 10_000):
            block = rows[offset : offset + 10_000]
            client.raw_insert(
                table,
                None,
                b"\n".join(block),
                fmt="JSONEachRow",
                settings={**INSERT_SETTINGS, "insert_deduplication_token": batch_token(block)},
            )
        elapsed = time.perf_counter() - started
        results.append((label, args.events / elapsed, elapsed))
        count = client.query(f"SELECT count() FROM {table}").result_rows[0][0]
        assert count == args.events, (table, count)
    client.command("DROP TABLE events_bench_no_views")

    print(f"{'path':<50} {'events/s':>12} {'seconds':>9}")
    for name, rate, seconds in results:
        print(f"{name:<50} {rate:>12,.0f} {seconds:>9.2f}")
    print("targets: >= 50,000 events/s end to end; >= 150,000 rows/s insert at 10k batches")


if __name__ == "__main__":
    main()
