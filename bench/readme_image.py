"""Regenerate the README image (docs/images/dashboard-management.png) from today's demo.

    .venv/bin/python bench/readme_image.py [--url http://localhost:8000] [--out PATH]

Without --url it builds a throw-away instance as `make run` does (migrate, seed the demo ending
yesterday, gunicorn on a free port, wait until the spool is shipped), signs in as `demo-owner` in
headless Chromium and screenshots the Management dashboard for the last 7 days at 1600 px. With
--url it uses a running server that holds the demo (nothing is seeded). Needs Chromium and
chromedriver (`make browser`).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SERVER = REPO / "server"
PYTHON = sys.executable
OUT = REPO / "docs" / "images" / "dashboard-management.png"
USER, PASSWORD = "demo-owner", "demo-pass-2026"
# The superuser `make run` creates (ensure_superuser's defaults), made here too.
ADMIN, ADMIN_PASSWORD = "admin", "admin"
PAGE = "/analytics/d/management/?from=now-7d&to=now"
WIDTH, HEIGHT = 1600, 1000

sys.path.insert(0, str(REPO / "tests"))
from browser import make_driver  # noqa: E402  (the tests' headless Chromium, one definition)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str) -> dict | None:
    """A GET signed in as the instance admin (health details are for admins); None until the
    server answers."""
    credentials = base64.b64encode(f"{ADMIN}:{ADMIN_PASSWORD}".encode()).decode()
    request = urllib.request.Request(url, headers={"Authorization": f"Basic {credentials}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)
    except OSError:
        return None


def start_instance(data_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "ANALYTICS_DATA_DIR": str(data_dir), "PORT": str(port), "HOST": "127.0.0.1"}
    manage = [PYTHON, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=SERVER, env=env, check=True)
    admin = {"DJANGO_SUPERUSER_USERNAME": ADMIN, "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD}
    subprocess.run([*manage, "ensure_superuser"], cwd=SERVER, env={**env, **admin}, check=True)
    print("seeding the demo (about a minute)", flush=True)
    subprocess.run(
        [*manage, "seed_demo", "--once"], cwd=SERVER, env={**env, "SPOOL_SYNCHRONOUS": "NORMAL"}, check=True
    )
    server = subprocess.Popen(
        [str(Path(PYTHON).with_name("gunicorn")), "config.wsgi:application", "-c", "config/gunicorn.conf.py"],
        cwd=SERVER,
        env={**env, "LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        health = get_json(f"{url}/api/server/health")
        if health and health["spool"]["depth"] == 0 and health["shipping"]["shipped_rows"] > 0:
            return server, url
        if server.poll() is not None:
            raise SystemExit(f"the server stopped with {server.returncode}")
        time.sleep(1)
    raise SystemExit("the demo was not shipped within 5 minutes")


def screenshot(url: str, out: Path) -> None:
    driver = make_driver()
    try:
        driver.set_window_size(WIDTH, HEIGHT)
        driver.get(f"{url}/analytics/login/")
        driver.find_element("name", "username").send_keys(USER)
        driver.find_element("name", "password").send_keys(PASSWORD)
        driver.find_element("css selector", "form").submit()
        driver.get(url + PAGE)
        deadline = time.monotonic() + 60
        while driver.find_element("tag name", "body").get_attribute("data-state") != "ready":
            if time.monotonic() > deadline:
                raise SystemExit("the dashboard did not finish loading")
            time.sleep(0.2)
        time.sleep(1)  # chart animations
        height = driver.execute_script("return document.documentElement.scrollHeight")
        shot = driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": WIDTH, "height": min(height, 2400), "scale": 1},
            },
        )
        out.write_bytes(base64.b64decode(shot["data"]))
    finally:
        driver.quit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server with the demo (default: build one)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    server = None
    data_dir = Path(tempfile.mkdtemp(prefix="readme-image-"))
    try:
        url = args.url
        if not url:
            server, url = start_instance(data_dir)
        screenshot(url.rstrip("/"), args.out)
        print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes) from {url}{PAGE}")
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
