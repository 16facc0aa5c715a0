"""Password guessing against a real gunicorn server: a token-authenticated request's p50 when idle
and while 8 clients hammer wrong HTTP Basic passwords for 15 s. Target: under attack within 2x of
idle (django-axes refuses locked-out guesses before the password hasher runs).

Run: `.venv/bin/python bench/auth_abuse.py [--seconds 15] [--clients 8] [--unthrottled]`
(starts and stops its own server on a free port for each run). The guessing clients run on this
machine: "remote-like" runs them at nice 19, standing in for attackers elsewhere, who take no CPU
from the server; "same box" lets them compete for the server's cores as well. `--unthrottled`
adds a run with throttling switched off, for comparison.
"""

from __future__ import annotations

import argparse
import base64
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from events_ingest import Api, free_port, sign_up, start_server

TOKEN_PATH = "/api/users/self"


def token_latencies(port: int, key: str, *, until: float | None = None, count: int = 0) -> list[float]:
    """Sequential token-authenticated GETs: `count` of them, or as many as fit before `until`."""
    api = Api(port, {"Authorization": f"Token {key}"})
    samples: list[float] = []
    while (until is None and len(samples) < count) or (until is not None and time.monotonic() < until):
        started = time.perf_counter()
        status, _ = api.call("GET", TOKEN_PATH)
        samples.append((time.perf_counter() - started) * 1000)
        assert status == 200, status
        if until is not None:
            time.sleep(0.01)
    return samples


def guesser(port: int, number: int, until: float, seen: Counter) -> None:
    """One client guessing passwords as fast as the server answers."""
    guess = 0
    api = Api(port, {})
    while time.monotonic() < until:
        guess += 1
        # A few usernames, real and not: the address is locked as well as each username.
        user = ("bench", "admin", f"user{number}")[guess % 3]
        credentials = base64.b64encode(f"{user}:wrong-{number}-{guess}".encode()).decode()
        api.headers["Authorization"] = f"Basic {credentials}"
        status, _ = api.call("GET", TOKEN_PATH, decode=False)
        seen[status] += 1


def attackers(port: int, clients: int, until: float, nice: int, results: multiprocessing.Queue) -> None:
    """The guessing clients: threads of one process apart from the measuring one (so that they do
    not share its GIL), at `nice` (>0 stands in for attackers on other machines, which take no CPU
    from the server's)."""
    os.nice(nice)
    counters = [Counter() for _ in range(clients)]
    threads = [threading.Thread(target=guesser, args=(port, n, until, counters[n])) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(dict(sum(counters, Counter())))


def measure(throttled: bool, seconds: float, clients: int, nice: int) -> dict:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-auth-") as tmp:
        os.environ["AUTH_THROTTLING_ENABLED"] = "true" if throttled else "false"
        server = start_server(Path(tmp), port)
        try:
            key = sign_up(port)
            token_latencies(port, key, count=50)  # warm up
            idle = token_latencies(port, key, count=300)
            until = time.monotonic() + seconds
            results: multiprocessing.Queue = multiprocessing.Queue()
            attack = multiprocessing.Process(target=attackers, args=(port, clients, until, nice, results))
            attack.start()
            time.sleep(0.5)  # the attack is under way
            attacked = token_latencies(port, key, until=until)
            statuses: Counter = Counter(results.get(timeout=60))
            attack.join()
        finally:
            server.terminate()
            server.wait(timeout=30)
    return {
        "idle_p50": statistics.median(idle),
        "attack_p50": statistics.median(attacked),
        "attack_samples": len(attacked),
        "guesses": sum(statuses.values()),
        "statuses": dict(sorted(statuses.items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--unthrottled", action="store_true", help="also measure with throttling off")
    args = parser.parse_args()
    # The guessing clients run on this machine: at nice 19 they take (almost) no CPU from the server,
    # as attackers on other machines would not; at nice 0 they also compete for its cores.
    runs = [("throttled, remote-like", True, 19), ("throttled, same box", True, 0)]
    if args.unthrottled:
        runs.append(("unthrottled, remote-like", False, 19))
    print(f"{args.clients} clients guess Basic passwords for {args.seconds:g} s; token GET {TOKEN_PATH}")
    print(f"{'run':<26}{'idle p50':>10}{'attack p50':>13}{'ratio':>10}{'guesses':>9}  statuses")
    ratios = {}
    for label, throttled, nice in runs:
        result = measure(throttled, args.seconds, args.clients, nice)
        ratios[label] = result["attack_p50"] / result["idle_p50"]
        print(
            f"{label:<26}{result['idle_p50']:>8.2f}ms{result['attack_p50']:>11.2f}ms{ratios[label]:>9.2f}x"
            f"{result['guesses']:>9}  {result['statuses']}"
        )
    target = ratios["throttled, remote-like"]
    print(f"target: throttled, remote-like ratio <= 2.00x -> {'met' if target <= 2 else 'NOT met'}")


if __name__ == "__main__":
    main()
