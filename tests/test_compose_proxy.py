"""The reverse proxy's routing, run for real: nginx with components/proxy/default.conf (upstream
addresses rewritten to local stand-ins for the server and Grafana), on the loopback interface.
Skipped where no nginx binary is installed (Debian: `apt-get install nginx-light`)."""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
# `make test` installs nginx; in CI a missing binary is a failure, not a skip.
pytestmark = pytest.mark.skipif(NGINX is None and not os.environ.get("CI"), reason="nginx is not installed")
CONF = Path(settings.REPO_DIR) / "components" / "proxy" / "default.conf"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers `<name>:<method>:<path>:<X-WEBAUTH-USER>`; as the server, also the auth endpoint."""

    name = "?"
    seen: list

    def log_message(self, *args) -> None:
        pass

    def _answer(self) -> None:
        user = self.headers.get("X-WEBAUTH-USER", "")
        self.seen.append((self.command, self.path, user))
        if self.name == "server" and self.path == "/api/analytics/grafana-auth":
            cookie = self.headers.get("Cookie", "")
            status = 200 if "who=analyst" in cookie else 403 if "who=plain" in cookie else 401
            self.send_response(status)
            if status == 200:
                self.send_header("X-WEBAUTH-USER", "analyst")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = f"{self.name}:{self.command}:{self.path}:{user}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_HEAD = _answer


def serve(name: str) -> tuple[http.server.ThreadingHTTPServer, list]:
    seen: list = []
    handler = type(f"{name}Recorder", (Recorder,), {"name": name, "seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen


@pytest.fixture
def proxy(tmp_path):
    backend, backend_seen = serve("server")
    grafana, grafana_seen = serve("grafana")
    port = free_port()
    conf = CONF.read_text()
    conf = conf.replace("server server:8000;", f"server 127.0.0.1:{backend.server_port};")
    conf = conf.replace("set $grafana grafana:3000;", f"set $grafana 127.0.0.1:{grafana.server_port};")
    conf = conf.replace("listen 80;", f"listen 127.0.0.1:{port};")
    (tmp_path / "default.conf").write_text(conf)
    (tmp_path / "nginx.conf").write_text(
        f"""
worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{}}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    include {tmp_path}/default.conf;
}}
"""
    )
    process = subprocess.Popen(
        [NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(process.stderr.read().decode()) from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", backend_seen, grafana_seen, grafana
    finally:
        process.terminate()
        process.wait(timeout=10)
        backend.shutdown()
        grafana.shutdown()


def fetch(url: str, *, cookie: str = "", method: str = "GET", headers: dict | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, method=method, data=b"{}" if method == "POST" else None)
    if cookie:
        request.add_header("Cookie", cookie)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    opener = urllib.request.build_opener(urllib.request.HTTPHandler)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


SPOOF = {"X-WEBAUTH-USER": "root"}


def test_analysts_reach_grafana_under_their_own_name(proxy):
    base, backend_seen, _, _ = proxy
    assert fetch(f"{base}/analytics/d/management", cookie="who=analyst", headers=SPOOF) == (
        200,
        "grafana:GET:/analytics/d/management:analyst",
    )
    status, body = fetch(f"{base}/analytics/api/ds/query", cookie="who=analyst", method="POST")
    assert (status, body) == (200, "grafana:POST:/analytics/api/ds/query:analyst")
    # The auth subrequest is a GET whatever the original method, without the client's header.
    assert ("GET", "/api/analytics/grafana-auth", "") in backend_seen
    assert all(method == "GET" for method, path, _ in backend_seen if path == "/api/analytics/grafana-auth")


@pytest.mark.parametrize("cookie", ["who=plain", ""], ids=["member", "signed-out"])
def test_everybody_else_gets_the_servers_pages(proxy, cookie):
    base, _, grafana_seen, _ = proxy
    assert fetch(f"{base}/analytics/d/management", cookie=cookie, headers=SPOOF) == (
        200,
        "server:GET:/analytics/d/management:",
    )
    assert grafana_seen == []


def test_the_rest_goes_to_the_server_and_never_carries_a_grafana_user(proxy):
    base, _, grafana_seen, _ = proxy
    assert fetch(f"{base}/api/projects", headers=SPOOF) == (200, "server:GET:/api/projects:")
    assert fetch(f"{base}/analytics") == (200, "server:GET:/analytics/:")  # redirected, then signed out
    assert fetch(f"{base}/_grafana_auth", cookie="who=analyst")[0] == 404
    assert fetch(f"{base}/_proxy/health") == (200, "ok\n")
    assert grafana_seen == []


def test_analysts_get_the_servers_pages_while_grafana_is_off(proxy):
    base, _, _, grafana = proxy
    grafana.shutdown()
    grafana.server_close()
    assert fetch(f"{base}/analytics/d/management", cookie="who=analyst") == (
        200,
        "server:GET:/analytics/d/management:",
    )
