"""Exactly once across crashes: keyed client batches from concurrent clients into a real gunicorn
server (as `make run` serves it, on the embedded engine in a throw-away directory) that is killed
with SIGKILL at random moments and restarted; afterwards every acknowledged event must be stored
exactly once and every rollup tier must equal a recount of the raw events.

A client retries a batch with the same Idempotency-Key until it gets 201 (stored) or 200 (a replay
of a batch already stored), as a real client would. After the last kill the server stays up, the
clients finish their current batch, the spool drains, the server stops; a separate process then
counts, by event_id, what ClickHouse holds, and rebuilds every rollup tier from the raw events
(backfill_rollups) to compare it with what the materialized views wrote.

Run: `.venv/bin/python bench/ingest_crash.py [--kills 40 --clients 6 --events 200]`
(tests/test_ingest_crash.py runs a smaller version in the suite). DATABASE_URL, if set, is the
Django database the server uses (it is flushed by the migrations' first run: give a fresh one).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SERVER_DIR = REPO / "server"
USERNAME, PASSWORD = "crash-admin", "crash-pass-2026"
SCOPES = ("draw:object", "resize:object", "change:frame", "zoom:image", "load:job")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Figures:
    kills: int = 0
    requests: int = 0
    retries: int = 0
    replays: int = 0
    batches_acknowledged: int = 0
    client_errors: list[str] = field(default_factory=list)
    acknowledged: dict[str, int] = field(default_factory=dict)  # key -> rows it stored


class Server:
    """gunicorn with the repository's config, restartable on the same port and data directory."""

    def __init__(self, data_dir: Path, port: int, env: dict[str, str]) -> None:
        self.data_dir, self.port, self.env = data_dir, port, env
        self.process: subprocess.Popen | None = None
        self.log = open(data_dir / "server.log", "ab")  # noqa: SIM115  (closed in stop())

    def manage(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=SERVER_DIR,
            env=self.env,
            check=True,
            capture_output=True,
        )

    def start(self, timeout: float = 90) -> float:
        started = time.monotonic()
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        self.process = subprocess.Popen(
            [
                gunicorn,
                "config.wsgi:application",
                "-c",
                "config/gunicorn.conf.py",
                "--access-logfile",
                "/dev/null",
            ],
            cwd=SERVER_DIR,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            start_new_session=True,  # its own process group: the kill takes the worker too
        )
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                break
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                return time.monotonic() - started
            except OSError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError("server did not start: " + (self.data_dir / "server.log").read_text()[-3000:])

    def kill(self) -> None:
        """SIGKILL the whole process group (the gunicorn arbiter and its worker)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)
        self.log.close()


class Api:
    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.port, self.headers = port, {"Content-Type": "application/json", **headers}

    def call(
        self, method: str, path: str, body: bytes | None = None, timeout: float = 30
    ) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=self.headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


def prepare(port: int) -> tuple[Api, int]:
    basic = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    api = Api(port, {"Authorization": f"Basic {basic}"})
    status, token = api.call("POST", "/api/auth/tokens", json.dumps({"name": "crash"}).encode())
    assert status == 201, token
    api = Api(port, {"Authorization": f"Token {json.loads(token)['key']}"})
    status, _ = api.call(
        "POST", "/api/organizations", json.dumps({"slug": "crash", "name": "Crash"}).encode()
    )
    assert status == 201
    api.headers["X-Organization"] = "crash"
    _, project = api.call(
        "POST", "/api/projects", json.dumps({"name": "P", "labels": [{"name": "car"}]}).encode()
    )
    _, task = api.call(
        "POST", "/api/tasks", json.dumps({"name": "T", "project_id": json.loads(project)["id"]}).encode()
    )
    status, job = api.call("POST", "/api/jobs", json.dumps({"task_id": json.loads(task)["id"]}).encode())
    assert status == 201, job
    return api, json.loads(job)["id"]


def batch_body(job_id: int, client: int, number: int, events: int) -> bytes:
    now = datetime.now(UTC)
    body = [
        {
            "scope": SCOPES[(client + number + i) % len(SCOPES)],
            "timestamp": (now + timedelta(milliseconds=300 * i)).isoformat(),
            "job_id": job_id,
            "count": 1,
            "duration": 250 if i % 4 == 0 else 0,
            "payload": {"client": client, "batch": number, "i": i},
        }
        for i in range(events)
    ]
    sent = (now + timedelta(milliseconds=300 * events)).isoformat()
    return json.dumps({"events": body, "previous_event": None, "timestamp": sent}).encode()


def client_loop(
    api: Api, job_id: int, client: int, events: int, stop: threading.Event, figures: Figures
) -> None:
    lock = threading.Lock()
    number = 0
    while not stop.is_set():
        key = f"crash-{client}-{number}"
        body = batch_body(job_id, client, number, events)
        headers = {**api.headers, "Idempotency-Key": key}
        attempt = 0
        while True:  # retried with the same key and body until acknowledged
            attempt += 1
            try:
                conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=30)
                conn.request("POST", "/api/events", body=body, headers=headers)
                response = conn.getresponse()
                status, answer = response.status, response.read()
                conn.close()
            except (OSError, http.client.HTTPException):  # killed mid-request or mid-answer
                status, answer = 0, b""
            with lock:
                figures.requests += 1
                figures.retries += attempt > 1
            if status in (200, 201):
                stored = json.loads(answer)
                with lock:
                    figures.acknowledged[key] = len(stored["events"]) + len(stored["working_time"])
                    figures.batches_acknowledged += 1
                    figures.replays += status == 200
                break
            if 400 <= status < 500:
                figures.client_errors.append(f"{key}: {status} {answer[:200]!r}")
                break
            time.sleep(random.uniform(0.02, 0.1))  # down (refused/reset) or 5xx: retry
        number += 1


def wait_drained(api: Api, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    health: dict = {}
    while time.monotonic() < deadline:
        _, raw = api.call("GET", "/api/server/health")
        health = json.loads(raw)
        if health["spool"]["depth"] == 0 and health["spool"]["batches_in_flight"] == 0:
            return health
        time.sleep(0.2)
    raise RuntimeError(f"the spool did not drain in {timeout}s: {health}")


def run(*, kills: int, clients: int, events: int, seed: int, database_url: str | None = None) -> dict:
    rng = random.Random(seed)
    data_dir = Path(tempfile.mkdtemp(prefix="ingest-crash-"))
    port = free_port()
    env = {
        **os.environ,
        "ANALYTICS_DATA_DIR": str(data_dir),
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "WEB_THREADS": "8",
        "SHIP_FLUSH_INTERVAL_SECONDS": "0.2",
        "SHIP_RETRY_MAX_BACKOFF_SECONDS": "1",
        # A batch leased by a killed process is taken over after this: the restarted one ships it.
        "SHIP_LEASE_SECONDS": "3",
        "DJANGO_SUPERUSER_USERNAME": USERNAME,
        "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
        "DJANGO_SUPERUSER_EMAIL": "crash@example.com",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    server = Server(data_dir, port, env)
    server.manage("migrate", "--noinput")
    server.manage("migrate_clickhouse")
    server.manage("ensure_superuser")
    figures = Figures()
    starts = [server.start()]
    api, job_id = prepare(port)
    stop = threading.Event()
    threads = [
        threading.Thread(target=client_loop, args=(api, job_id, c, events, stop, figures), daemon=True)
        for c in range(clients)
    ]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for _ in range(kills):
        time.sleep(rng.uniform(0.2, 1.5))  # a random moment of ingest (and of shipping)
        server.kill()
        figures.kills += 1
        starts.append(server.start())
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    drained = wait_drained(api, timeout=120)
    elapsed = time.monotonic() - began
    server.stop()
    expected = data_dir / "acknowledged.json"
    expected.write_text(json.dumps(figures.acknowledged))
    verify = subprocess.run(
        [sys.executable, __file__, "--verify", str(expected)],
        env=env,
        cwd=SERVER_DIR,
        capture_output=True,
        text=True,
    )
    if verify.returncode != 0:
        raise RuntimeError(verify.stderr[-3000:])
    counted = json.loads(verify.stdout.strip().splitlines()[-1])
    if counted["lost"] == counted["stored_twice"] == 0 and not counted["rollup_tiers_differing"]:
        shutil.rmtree(data_dir, ignore_errors=True)  # kept when something is wrong, to look into
    return {
        "database": "postgresql" if database_url else "sqlite",
        "kills": figures.kills,
        "clients": clients,
        "events_per_batch": events,
        "requests": figures.requests,
        "retried_requests": figures.retries,
        "replayed_answers": figures.replays,
        "batches_acknowledged": figures.batches_acknowledged,
        "client_errors": figures.client_errors[:5],
        "median_restart_s": round(sorted(starts)[len(starts) // 2], 2),
        "ingest_seconds": round(elapsed, 1),
        "shipped_rows_reported": drained.get("totals", {}).get("rows_shipped"),
        **counted,
    }


def verify(acknowledged_file: Path) -> dict:
    """In a process of its own (the engine is a library: one process opens it at a time)."""
    sys.path.insert(0, str(SERVER_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from events.ingest import EVENT_ID_NAMESPACE
    from store.client import get_client

    acknowledged: dict[str, int] = json.loads(acknowledged_file.read_text())
    user_id = get_user_model().objects.get(username=USERNAME).pk
    expected = {
        str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{user_id}:{key}:{index}"))
        for key, n in acknowledged.items()
        for index in range(n)
    }
    client = get_client()
    stored = {
        str(event_id): n
        for event_id, n in client.query(
            "SELECT event_id, count() FROM events WHERE source = 'client' OR scope = 'send:working_time'"
            " GROUP BY event_id"
        ).result_rows
    }
    tiers = ("rollup_5m", "rollup_1h", "rollup_1d", "rollup_org_1h", "rollup_org_1d")
    from_views = {table: _tier(client, table) for table in tiers}
    call_command("backfill_rollups", "--no-progress", stdout=open(os.devnull, "w"))  # noqa: SIM115
    recounted = {table: _tier(client, table) for table in tiers}
    return {
        "acknowledged_events": len(expected),
        "stored_events": sum(stored.values()),
        "lost": len(expected - stored.keys()),
        "stored_twice": sum(1 for n in stored.values() if n > 1),
        "stored_unacknowledged": len(stored.keys() - expected),
        "rollup_tiers_checked": len(tiers),
        "rollup_tiers_differing": [t for t in tiers if from_views[t] != recounted[t]],
        "rollup_rows": sum(len(rows) for rows in from_views.values()),
    }


def _tier(client, table: str) -> list[tuple]:
    ids = "org_id" if table.startswith("rollup_org_") else "org_id, project_id, task_id, job_id, user_id"
    return client.query(
        f"SELECT bucket, {ids}, source, metric_key, sum(events), sum(units), sum(duration_ms),"
        f" sum(working_time_ms) FROM {table} GROUP BY ALL ORDER BY ALL"
    ).result_rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=40)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--events", type=int, default=200, help="events per batch")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--verify", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.verify:
        print(json.dumps(verify(args.verify)))
        return
    figures = run(
        kills=args.kills,
        clients=args.clients,
        events=args.events,
        seed=args.seed,
        database_url=os.environ.get("DATABASE_URL"),
    )
    for name, value in figures.items():
        print(f"{name:>24}: {value}")
    ok = figures["lost"] == figures["stored_twice"] == 0 and not figures["rollup_tiers_differing"]
    print("exactly once:", "yes" if ok else "NO")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
