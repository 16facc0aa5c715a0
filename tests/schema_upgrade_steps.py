"""Steps of tests/test_schema_upgrade.py, each run in a process of its own (chDB opens one data
directory per process): `python schema_upgrade_steps.py <step> <chdb dir>`, JSON on stdout.

  install-main  what `main` did before the schema was defined in Python: its migration files
                (tests/fixtures/schema_before_definitions/, verbatim) applied by its runner's
                rules (statements split on `;` at line ends, the file's sha256 recorded), then
                events shipped in batches, one of them retried with its token;
  dump          every count and sum: events, every rollup tier, names, applied migrations, and
                the CREATE of every table and view of the `default` and `rendered` databases;
  ship-retried  one more batch through the server's ClickHouse sink, sent twice with one token.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "schema_before_definitions"
sys.path.insert(0, str(REPO / "server"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def records(seed: int, n: int, start: datetime) -> list:
    from events.record import EventRecord

    scopes = ["draw:object", "update:job", "send:working_time", "create:project", "save:job", "update:issue"]
    out = []
    for i in range(n):
        scope = scopes[(i * 7 + seed) % len(scopes)]
        status = {"update:job": ("state", "completed"), "update:issue": ("resolved", "true")}.get(scope)
        out.append(
            EventRecord(
                scope,
                start + timedelta(minutes=17 * i + seed),
                source="client" if scope in ("draw:object", "send:working_time") else "server",
                obj_name=status[0] if status else (f"Project {i}" if scope == "create:project" else None),
                obj_val=status[1] if status else None,
                obj_id=1000 + i,
                count=(i % 4) or None,
                duration=(i % 9) * 1000,
                org_id=1 + i % 3,
                project_id=10 + i % 5,
                task_id=100 + i % 6,
                job_id=1000 + i % 11,
                user_id=20 + i % 4,
                user_name=f"annotator{i % 4}",
            )
        )
    return out


def install_main(client) -> dict:
    comment = re.compile(r"--[^\n]*")
    client.command(comment.sub("", (FIXTURE / "schema_migrations_table.sql").read_text()))
    for path in sorted(FIXTURE.glob("0*.sql")):
        text = path.read_text()
        for statement in re.split(r";\s*(?:\n|$)", comment.sub("", text)):
            if statement.strip():
                client.command(statement.strip())
        version, name = path.stem.split("_", 1)
        client.insert(
            "schema_migrations",
            [[int(version), name, hashlib.sha256(text.encode()).hexdigest()]],
            column_names=["version", "name", "checksum"],
        )
    from shipping.sinks import INSERT_SETTINGS

    # Two months of events in five batches; the third is sent twice (a lost acknowledgement).
    start = datetime(2026, 10, 28, 6, 0, tzinfo=UTC)
    for batch in range(5):
        rows = b"\n".join(r.to_row() for r in records(batch, 400, start + timedelta(days=2 * batch)))
        token = f"main-batch-{batch}"
        for _ in range(2 if batch == 2 else 1):
            client.raw_insert(
                "events",
                None,
                rows,
                fmt="JSONEachRow",
                settings={**INSERT_SETTINGS, "insert_deduplication_token": token},
            )
    return {"installed": True}


_SUMS = "sum(events), sum(units), sum(duration_ms), sum(working_time_ms)"


def dump(client) -> dict:
    def q(sql: str) -> list:
        return [list(map(str, row)) for row in client.query(sql).result_rows]

    out = {
        "events": q("SELECT count(), sum(duration), uniqExact(event_id), sum(ifNull(count, 1)) FROM events"),
        "migrations": q("SELECT version, name FROM schema_migrations FINAL ORDER BY version"),
        "names": q(
            "SELECT kind, id, argMax(name, updated_at) FROM object_names GROUP BY kind, id ORDER BY kind, id"
        ),
    }
    for tier in ("rollup_5m", "rollup_1h", "rollup_1d"):
        out[tier] = q(
            f"SELECT bucket, org_id, project_id, task_id, job_id, user_id, source, metric_key, {_SUMS}"
            f" FROM {tier} GROUP BY ALL ORDER BY ALL"
        )
    for tier in ("rollup_org_1h", "rollup_org_1d"):
        out[tier] = q(
            f"SELECT bucket, org_id, source, metric_key, {_SUMS}, uniqExactMerge(users), uniqExactMerge(jobs)"
            f" FROM {tier} GROUP BY ALL ORDER BY ALL"
        )
    out["tables"] = {
        database: {
            name: re.sub(rf"\b{database}\.", "", create)
            for name, create in client.query(
                "SELECT name, create_table_query FROM system.tables WHERE database = {db:String}",
                parameters={"db": database},
            ).result_rows
        }
        for database in ("default", "rendered")
    }
    return out


def ship_retried(client) -> dict:
    import django

    django.setup()
    from shipping.sinks import ClickHouseSink

    rows = b"\n".join(r.to_row() for r in records(9, 300, datetime(2026, 11, 20, tzinfo=UTC)))
    token = uuid.uuid4().hex
    ClickHouseSink().send(rows, token)
    ClickHouseSink().send(rows, token)
    return {"shipped": 300}


def main() -> None:
    step, directory = sys.argv[1], sys.argv[2]
    os.environ["CLICKHOUSE_URL"] = f"chdb://{directory}"
    import clickhouse_connect

    if step == "ship-retried":
        import django

        django.setup()
        from store.client import get_client

        client = get_client()
    else:
        client = clickhouse_connect.get_client(dsn=f"chdb://{directory}")
    result = {"install-main": install_main, "dump": dump, "ship-retried": ship_retried}[step](client)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
