"""POST /api/events end to end: a real gunicorn server on the embedded engine, 2 concurrent clients,
100- and 1,000-event batches; events/s from the first request until the server reports every row
shipped into ClickHouse, and p50/p99 request latency.

Run: `.venv/bin/python bench/events_ingest.py` (starts and stops its own server on a free port).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The shipping figures are read from the metrics endpoint, as a Prometheus scraper would.
METRICS_TOKEN = "bench-metrics"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Api:
    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Content-Type": "application/json", **headers}

    def call(
        self, method: str, path: str, body: object | bytes | None = None, *, decode: bool = True
    ) -> tuple[int, dict | bytes | None]:
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        try:
            self.conn.request(method, path, body=data, headers=self.headers)
            response = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError):
            if method != "GET":
                raise
            # gunicorn closes keep-alive connections idle for more than 2 s; a GET may simply retry.
            self.conn.close()
            self.conn.request(method, path, body=data, headers=self.headers)
            response = self.conn.getresponse()
        raw = response.read()
        return response.status, (json.loads(raw) if raw and decode else raw)


def start_server(data_dir: Path, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "ANALYTICS_DATA_DIR": str(data_dir),
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
        "METRICS_TOKEN": METRICS_TOKEN,
    }
    env["REGISTRATION_OPEN"] = "true"  # prepare() signs its user up through the API
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO / "server", env=env, check=True
    )
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115  (owned by the server process)
    server = subprocess.Popen(
        [
            str(Path(python).parent / "gunicorn"),
            "config.wsgi:application",
            "-c",
            "config/gunicorn.conf.py",
            "--access-logfile",
            "/dev/null",
        ],
        cwd=REPO / "server",
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("server did not start: " + (data_dir / "server.log").read_text()[-2000:])


def sign_up(port: int) -> str:
    """A user signed up through the API (the server runs with REGISTRATION_OPEN) and an API key."""
    anonymous = Api(port, {})
    status, _ = anonymous.call(
        "POST",
        "/api/auth/register",
        {"username": "bench", "password": "bench-pass-1", "email": "b@example.com"},
    )
    assert status == 201, status
    basic = base64.b64encode(b"bench:bench-pass-1").decode()
    status, token = Api(port, {"Authorization": f"Basic {basic}"}).call(
        "POST", "/api/auth/tokens", {"name": "bench"}
    )
    assert status == 201, token
    return token["key"]


def prepare(port: int) -> tuple[str, int]:
    """A user with a token, an organization and a job, through the API."""
    key = sign_up(port)
    api = Api(port, {"Authorization": f"Token {key}"})
    assert api.call("POST", "/api/organizations", {"slug": "bench", "name": "Bench"})[0] == 201
    api.headers["X-Organization"] = "bench"
    status, project = api.call("POST", "/api/projects", {"name": "P", "labels": [{"name": "car"}]})
    status, task = api.call("POST", "/api/tasks", {"name": "T", "project_id": project["id"]})
    status, job = api.call("POST", "/api/jobs", {"task_id": task["id"]})
    assert status == 201, job
    return key, job["id"]


def bodies(job_id: int, batch: int, requests: int, client: int) -> list[bytes]:
    start = datetime(2026, 11, 1, 9, tzinfo=UTC) + timedelta(days=client)
    scopes = ["draw:object", "resize:object", "drag:object", "change:frame", "zoom:image"]
    out = []
    for r in range(requests):
        base = start + timedelta(seconds=r * batch)
        events = [
            {
                "scope": scopes[i % 5],
                "timestamp": (base + timedelta(seconds=i)).isoformat(),
                "job_id": job_id,
                "count": 1,
                "duration": 400 if i % 5 == 3 else 0,
                "payload": f'{{"frame": {i}}}',
            }
            for i in range(batch)
        ]
        sent = (base + timedelta(seconds=batch)).isoformat()
        out.append(json.dumps({"events": events, "previous_event": None, "timestamp": sent}).encode())
    return out


def shipped_rows(api: Api) -> tuple[int, int]:
    """(rows shipped so far, rows waiting in the spool)."""
    _, raw = api.call("GET", "/api/server/metrics", decode=False)
    found = dict(re.findall(rb"^(analytics_shipping_\w+) (\S+)$", raw, re.M))
    return int(float(found[b"analytics_shipping_rows_shipped_total"])), int(
        float(found[b"analytics_shipping_spool_depth_rows"])
    )


def run(port: int, token: str, job_id: int, batch: int, requests_per_client: int) -> dict:
    headers = {"Authorization": f"Token {token}", "X-Organization": "bench"}
    monitor = Api(port, {"Authorization": f"Bearer {METRICS_TOKEN}"})
    shipped_before, _ = shipped_rows(monitor)
    payloads = [bodies(job_id, batch, requests_per_client, c) for c in range(2)]
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        api = Api(port, headers)
        mine = []
        for body in payloads[index]:
            t0 = time.perf_counter()
            # Like a real client, read the answer but do not decode it: the server is measured.
            status, answer = api.call("POST", "/api/events", body, decode=False)
            mine.append(time.perf_counter() - t0)
            if status != 201:
                errors.append(f"{status} {str(answer)[:200]}")
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(c,)) for c in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    posted = time.perf_counter() - started
    # Every batch adds its events plus one send:working_time row (one job per batch).
    expected = 2 * requests_per_client * (batch + 1)
    while True:
        shipped, depth = shipped_rows(monitor)
        if shipped - shipped_before >= expected and depth == 0:
            break
        time.sleep(0.02)
    total = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{len(errors)} failed requests, first: {errors[0]}")
    events = 2 * requests_per_client * batch
    latencies.sort()
    return {
        "batch": batch,
        "requests": len(latencies),
        "events": events,
        "events_per_s": events / total,
        "accepted_per_s": events / posted,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000, help="events per client and batch size")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    port = free_port()
    server = start_server(data_dir, port)
    try:
        token, job_id = prepare(port)
        results = []
        for batch in (100, 1000):
            print(f"posting {2 * args.events:,} events in {batch}-event batches, 2 clients...", flush=True)
            results.append(run(port, token, job_id, batch, max(1, args.events // batch)))
    except BaseException:
        print("server log tail:\n" + (data_dir / "server.log").read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(
        f"\n{'batch':>6} {'requests':>9} {'events':>9} {'events/s (to ClickHouse)':>25} "
        f"{'accepted/s':>11} {'p50 ms':>8} {'p99 ms':>8}"
    )
    for r in results:
        print(
            f"{r['batch']:>6} {r['requests']:>9,} {r['events']:>9,} {r['events_per_s']:>25,.0f} "
            f"{r['accepted_per_s']:>11,.0f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f}"
        )
    print("target at 100-event batches: >= 20,000 events/s and p99 < 100 ms")


if __name__ == "__main__":
    main()
