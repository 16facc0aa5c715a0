"""A newcomer's first `make run`: clone the repository afresh, run `make run` and time it until the
sign-in page answers; print the time of each step that `make run` announced.

    python3 bench/first_run.py [--ref BRANCH] [--port 8765] [--keep]

Uses the machine's package caches as they are (run it twice for the warm-cache figure). The clone,
its .venv and its data directory live in a temporary folder, removed at the end unless --keep. The
target: the sign-in page within 60 s with warm caches.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 60.0
STEP = re.compile(r"==> (.*?)(?:\x1b\[0m)?$")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="HEAD", help="what to clone (a branch or commit of this repository)")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--keep", action="store_true", help="keep the clone")
    args = parser.parse_args()
    port = args.port or free_port()
    work = Path(tempfile.mkdtemp(prefix="first-run-"))
    clone = work / "clone"
    ref = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", args.ref], check=True, capture_output=True, text=True
    ).stdout.strip()
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(REPO), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", ref], check=True)
    env = {
        **os.environ,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "ANALYTICS_DATA_DIR": str(work / "data"),
    }
    env.pop("VIRTUAL_ENV", None)
    url = f"http://127.0.0.1:{port}/analytics/login/"
    print(f"clone of {ref[:12]} in {clone}; make run on port {port}, until {url} answers", flush=True)
    started = time.monotonic()
    steps: list[tuple[str, float]] = []
    make = subprocess.Popen(
        ["make", "run"],
        cwd=clone,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )

    def follow() -> None:
        assert make.stdout is not None
        with open(work / "make-run.log", "w") as log:
            for line in make.stdout:
                log.write(line)
                match = STEP.search(line.rstrip())
                if match:
                    steps.append((match.group(1), time.monotonic() - started))

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    try:
        while not answers(url):
            if make.poll() is not None:
                print(f"make run stopped with {make.returncode}; log: {work / 'make-run.log'}")
                return 1
            if time.monotonic() - started > args.timeout:
                print(f"no answer after {args.timeout:.0f} s; log: {work / 'make-run.log'}")
                return 1
            time.sleep(0.25)
        total = time.monotonic() - started
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGTERM)
            make.wait(timeout=60)
        reader.join(timeout=5)
    marks = [*steps, ("sign-in page answers", total)]
    for (name, at), following in zip(marks, [*marks[1:], None], strict=True):
        took = f"{following[1] - at:6.1f} s" if following else ""
        print(f"{at:6.1f} s  {name:<90} {took}")
    load = os.getloadavg()[0]
    print(f"machine load average (1 min) at the end: {load:.1f} on {os.cpu_count()} CPUs")
    print(
        f"first run to the sign-in page: {total:.1f} s "
        f"(target {TARGET_SECONDS:.0f} s, ratio {total / TARGET_SECONDS:.2f})"
    )
    if not args.keep:
        subprocess.run(["rm", "-rf", str(work)], check=False)
    else:
        print(f"kept {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
