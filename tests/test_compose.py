"""docker-compose.yml and what it mounts, checked without Docker: variables, paths, pinned images,
service names against the server's settings, the proxy's upstreams, the ClickHouse users, Grafana's
provisioning and the documented settings."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from django.conf import settings

REPO = Path(settings.REPO_DIR)
COMPOSE_TEXT = (REPO / "docker-compose.yml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SERVICES = COMPOSE["services"]
SERVER_IMAGE_SERVICES = ("server", "export-worker", "migrate")

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}, $NAME ($$ escapes).
_VARIABLE = re.compile(
    r"(?<!\$)\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))"
)


def env_example() -> dict[str, str]:
    values = {}
    for line in (REPO / ".env.example").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's interpolation of `text` with `env` (the .env file)."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(4)
        operator, argument = match.group(2), match.group(3) or ""
        value = env.get(name)
        if operator in (":-", "-"):
            use_default = value is None or (operator == ":-" and value == "")
            return argument if use_default else value
        if operator in (":?", "?"):
            missing = value is None or (operator == ":?" and value == "")
            assert not missing, f"{name} is required: {argument}"
        return value or ""

    return _VARIABLE.sub(replace, text).replace("$$", "$")


def _walk(node, env: dict[str, str]):
    if isinstance(node, dict):
        return {key: _walk(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [_walk(value, env) for value in node]
    return interpolate(node, env) if isinstance(node, str) else node


def resolved(env: dict[str, str] | None = None) -> dict:
    """The compose file as Compose sees it: parsed, then every string value interpolated."""
    return _walk(COMPOSE, env_example() if env is None else env)


def test_every_variable_is_in_env_example():
    used = {m.group(1) or m.group(4) for m in _VARIABLE.finditer(COMPOSE_TEXT)}
    missing = used - set(env_example())
    assert not missing, f"add to .env.example: {sorted(missing)}"
    assert used >= {
        "CLICKHOUSE_PASSWORD",
        "CLICKHOUSE_GRAFANA_PASSWORD",
        "POSTGRES_PASSWORD",
        "DJANGO_SECRET_KEY",
    }


def test_secrets_are_required_and_placeholders_are_url_safe():
    for name in (
        "CLICKHOUSE_PASSWORD",
        "CLICKHOUSE_GRAFANA_PASSWORD",
        "POSTGRES_PASSWORD",
        "DJANGO_SECRET_KEY",
    ):
        uses = re.findall(r"\$\{" + name + r"(:?[-?+]?)", COMPOSE_TEXT)
        assert uses and all(op == ":?" for op in uses), f"{name} must be ${{{name}:?...}} everywhere"
    env = env_example()
    for name in ("CLICKHOUSE_PASSWORD", "POSTGRES_PASSWORD"):
        assert re.fullmatch(r"[A-Za-z0-9._~-]+", env[name]), f"{name} goes into a URL"


def test_every_mounted_host_path_exists():
    mounts = 0
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith((".", "/")):
                assert (REPO / source).exists(), f"{name}: {source} does not exist"
                assert volume.endswith(":ro"), f"{name}: mount {source} read-only"
                mounts += 1
            else:
                assert source in COMPOSE["volumes"], f"{name}: undeclared volume {source}"
    assert mounts >= 6


def test_every_image_is_pinned():
    for name, service in SERVICES.items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and "/" not in tag, f"{name}: {image} has no tag"
        tag = interpolate(tag, env_example())
        assert tag and tag != "latest" and re.search(r"\d+\.\d+", tag), f"{name}: {image} is not pinned"
    images = {name: service["image"] for name, service in SERVICES.items()}
    assert images["clickhouse"].startswith("clickhouse/clickhouse-server:")
    assert images["vector"].startswith("timberio/vector:")
    assert images["grafana"].startswith("grafana/grafana:")
    assert images["postgres"].startswith("postgres:")
    assert images["proxy"].startswith("nginx:")
    for name in SERVER_IMAGE_SERVICES:
        assert SERVICES[name]["build"]["dockerfile"] == "Dockerfile"
        assert images[name] == images["server"]


def test_the_grafana_plugin_is_pinned_to_the_generators_version():
    preinstall = SERVICES["grafana"]["environment"]["GF_PLUGINS_PREINSTALL_SYNC"]
    plugin, version = preinstall.split("@")
    assert plugin == "grafana-clickhouse-datasource" and re.fullmatch(r"\d+\.\d+\.\d+", version)
    generator = (REPO / "grafana" / "generator" / "clickhouse.py").read_text()
    assert f'PLUGIN_VERSION = "{version}"' in generator
    assert "GF_INSTALL_PLUGINS" not in SERVICES["grafana"]["environment"]


def test_every_service_restarts_checks_its_health_and_keeps_state_in_volumes():
    for name, service in SERVICES.items():
        if name == "migrate":
            assert service["restart"] == "no"
            continue
        assert service["restart"] == "unless-stopped", name
        assert service["healthcheck"]["test"], name
    state = {
        "clickhouse": "/var/lib/clickhouse",
        "vector": "/var/lib/vector",
        "postgres": "/var/lib/postgresql/data",
        "grafana": "/var/lib/grafana",
        "server": "/data",
        "export-worker": "/data",
    }
    for name, path in state.items():
        named = [v for v in SERVICES[name]["volumes"] if v.split(":")[0] in COMPOSE["volumes"]]
        assert any(v.split(":")[1] == path for v in named), f"{name}: {path} must be a named volume"
    published = {name for name, service in SERVICES.items() if service.get("ports")}
    assert published == {"proxy"}, "only the proxy is reachable from outside"


def _server_env(service: str = "server") -> dict[str, str]:
    return {k: str(v) for k, v in resolved()["services"][service]["environment"].items()}


def test_service_names_match_the_servers_settings():
    env = env_example()
    assert env["CLICKHOUSE_HOST"] in SERVICES
    for service in SERVER_IMAGE_SERVICES:
        server = _server_env(service)
        clickhouse = urlparse(server["CLICKHOUSE_URL"])
        assert clickhouse.scheme == "http" and clickhouse.hostname in SERVICES
        assert clickhouse.hostname == env["CLICKHOUSE_HOST"] and clickhouse.port == int(
            env["CLICKHOUSE_PORT"]
        )
        assert (clickhouse.username, clickhouse.password) == (
            env["CLICKHOUSE_USER"],
            env["CLICKHOUSE_PASSWORD"],
        )
        assert clickhouse.path == "/" + env["CLICKHOUSE_DB"]
        database = urlparse(server["DATABASE_URL"])
        assert database.scheme == "postgres" and database.hostname == "postgres" and "postgres" in SERVICES
        assert database.path == "/" + env["POSTGRES_DB"] and database.password == env["POSTGRES_PASSWORD"]
        vector = urlparse(server["VECTOR_URL"])
        assert vector.hostname in SERVICES and vector.hostname == "vector" and vector.path == "/events"
        assert vector.port == int(_server_env("server")["VECTOR_URL"].rsplit(":", 1)[1].split("/")[0])
        assert server["EXPORT_WORKER_IN_PROCESS"] == "false"
        assert server["CLICKHOUSE_MIGRATE_ON_START"] == "false"
        assert int(server["WEB_WORKERS"]) >= 1
    vector_env = {k: str(v) for k, v in resolved()["services"]["vector"]["environment"].items()}
    assert vector_env["CLICKHOUSE_HOST"] in SERVICES
    assert vector_env["VECTOR_HTTP_PORT"] == str(urlparse(_server_env()["VECTOR_URL"]).port)
    assert SERVICES["export-worker"]["command"] == ["python", "manage.py", "run_export_worker"]
    assert (REPO / "server/exports/management/commands/run_export_worker.py").exists()
    # Server, worker and migrate share the data volume (spool, export files).
    assert {v for s in SERVER_IMAGE_SERVICES for v in SERVICES[s]["volumes"]} == {"server_data:/data"}


def test_switching_vector_off_is_an_empty_vector_url():
    assert "${VECTOR_URL-" in COMPOSE_TEXT, "an empty VECTOR_URL must stay empty (direct inserts)"
    env = env_example() | {"VECTOR_URL": ""}
    server = resolved(env)["services"]["server"]["environment"]
    assert server["VECTOR_URL"] == ""


def test_every_server_variable_is_documented():
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", (REPO / "docs" / "settings.md").read_text(), re.M))
    for service in SERVER_IMAGE_SERVICES:
        read = set(SERVICES[service]["environment"])
        assert read <= documented, f"{service}: document {sorted(read - documented)} in docs/settings.md"
    assert (
        set(env_example())
        - {
            "HTTP_PORT",
            "PUBLIC_URL",
            "SERVER_VERSION",
            "CLICKHOUSE_GRAFANA_PASSWORD",
            "POSTGRES_DB",
            "POSTGRES_USER",
            "POSTGRES_PASSWORD",
            "DOCKER_SUBNET",
            "PROXY_IP",
        }
        <= documented
    )


# --- the reverse proxy -------------------------------------------------------------------------------

PROXY_CONF = (REPO / "components" / "proxy" / "default.conf").read_text()


def _locations() -> dict[str, str]:
    """location selector -> body (the config has no nested blocks inside locations)."""
    return {
        m.group(1).strip(): m.group(2)
        for m in re.finditer(r"^\s*location\s+([^{]+)\{(.*?)^\s*\}", PROXY_CONF, re.M | re.S)
    }


def test_the_proxy_upstreams_are_services():
    found = re.findall(r"upstream\s+(\w+)\s*\{\s*server\s+([\w.-]+):(\d+);", PROXY_CONF)
    assert [(name, host, int(port)) for name, host, port in found] == [("analytics_server", "server", 8000)]
    # Grafana is looked up per request (it may be switched off), through Docker's DNS.
    assert re.findall(r"set \$grafana ([\w.-]+):(\d+);", PROXY_CONF) == [("grafana", "3000")]
    assert "resolver 127.0.0.11" in PROXY_CONF
    assert {"server", "grafana"} <= set(SERVICES)
    for target in re.findall(r"proxy_pass\s+http://([\w$]+)", PROXY_CONF):
        assert target in ("analytics_server", "$grafana"), target
    assert "/etc/nginx/conf.d/default.conf" in SERVICES["proxy"]["volumes"][0]


def test_grafana_is_reached_only_through_the_auth_subrequest():
    locations = _locations()
    grafana = [selector for selector, body in locations.items() if "$grafana" in body]
    assert grafana == ["/analytics/"]
    body = locations["/analytics/"]
    assert "auth_request /_grafana_auth;" in body
    assert "proxy_set_header X-WEBAUTH-USER $webauth_user;" in body
    assert "auth_request_set $webauth_user $upstream_http_x_webauth_user;" in body
    assert re.search(r"error_page 401 403 = @server_pages;", body)
    assert re.search(r"error_page 502 503 504 = @server_pages;", body)
    auth = locations["= /_grafana_auth"]
    assert "internal;" in auth and "/api/analytics/grafana-auth" in auth and "proxy_method GET;" in auth
    # Every other location clears the header, so a browser can never choose its Grafana user.
    for selector, body in locations.items():
        if "proxy_pass" in body and selector != "/analytics/":
            assert 'proxy_set_header X-WEBAUTH-USER "";' in body, selector
    from django.urls import resolve

    assert resolve("/api/analytics/grafana-auth").url_name == "grafana-auth"


def test_grafana_trusts_only_the_proxy_and_makes_viewers():
    grafana = resolved()["services"]["grafana"]["environment"]
    proxy_ip = resolved()["services"]["proxy"]["networks"]["backend"]["ipv4_address"]
    assert (
        grafana["GF_AUTH_PROXY_ENABLED"] == "true"
        and grafana["GF_AUTH_PROXY_HEADER_NAME"] == "X-WEBAUTH-USER"
    )
    assert grafana["GF_AUTH_PROXY_WHITELIST"] == proxy_ip
    assert grafana["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert grafana["GF_USERS_AUTO_ASSIGN_ORG_ROLE"] == "Viewer"
    assert grafana["GF_SECURITY_DISABLE_INITIAL_ADMIN_CREATION"] == "true"
    assert grafana["GF_SERVER_SERVE_FROM_SUB_PATH"] == "true" and grafana["GF_SERVER_ROOT_URL"].endswith(
        "/analytics/"
    )
    subnet = resolved()["networks"]["backend"]["ipam"]["config"][0]["subnet"]
    import ipaddress

    assert ipaddress.ip_address(proxy_ip) in ipaddress.ip_network(subnet)
    assert "GF_SECURITY_ADMIN_PASSWORD" not in grafana


# --- ClickHouse users and Grafana provisioning ---------------------------------------------------------

USERS = ET.parse(REPO / "components" / "clickhouse" / "users.d" / "users.xml").getroot()


def test_clickhouse_users():
    users = USERS.find("users")
    assert users.find("default").get("remove") == "remove"
    env = env_example()
    app, grafana = users.find(env["CLICKHOUSE_USER"]), users.find("grafana")
    assert app is not None and grafana is not None
    assert app.find("password").get("from_env") == "CLICKHOUSE_PASSWORD"
    assert grafana.find("password").get("from_env") == "CLICKHOUSE_GRAFANA_PASSWORD"
    profiles = USERS.find("profiles")
    readonly = profiles.find(grafana.findtext("profile"))
    assert grafana.findtext("profile") == "readonly" and readonly.findtext("readonly") == "1"
    assert readonly.find("constraints/max_execution_time/changeable_in_readonly") is not None
    assert [q.text for q in grafana.findall("grants/query")] == [f"GRANT SELECT ON {env['CLICKHOUSE_DB']}.*"]
    writer = profiles.find(app.findtext("profile"))
    assert writer.findtext("readonly") is None
    assert writer.findtext("insert_deduplicate") == "1"
    assert writer.findtext("deduplicate_blocks_in_dependent_materialized_views") == "1"
    assert writer.findtext("async_insert") == "0"
    clickhouse_env = SERVICES["clickhouse"]["environment"]
    assert {"CLICKHOUSE_PASSWORD", "CLICKHOUSE_GRAFANA_PASSWORD"} <= set(clickhouse_env)
    assert clickhouse_env["CLICKHOUSE_SKIP_USER_SETUP"] == "1"
    ET.parse(REPO / "components" / "clickhouse" / "config.d" / "analytics.xml")


def test_grafana_provisioning():
    provisioning = REPO / "grafana" / "provisioning"
    (datasource,) = yaml.safe_load((provisioning / "datasources" / "clickhouse.yaml").read_text())[
        "datasources"
    ]
    env = env_example()
    assert datasource["type"] == "grafana-clickhouse-datasource" and datasource["uid"] == "clickhouse"
    assert (
        datasource["jsonData"]["host"] in SERVICES
        and datasource["jsonData"]["host"] == env["CLICKHOUSE_HOST"]
    )
    assert (
        datasource["jsonData"]["port"] == int(env["CLICKHOUSE_PORT"])
        and datasource["jsonData"]["protocol"] == "http"
    )
    assert datasource["jsonData"]["username"] == "grafana"
    assert datasource["jsonData"]["defaultDatabase"] == env["CLICKHOUSE_DB"]
    assert datasource["secureJsonData"]["password"] == "$CLICKHOUSE_GRAFANA_PASSWORD"
    assert "CLICKHOUSE_GRAFANA_PASSWORD" in SERVICES["grafana"]["environment"]
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "dashboards.yaml").read_text())["providers"]
    assert provider["type"] == "file"
    mounts = {v.split(":")[1]: v.split(":")[0] for v in SERVICES["grafana"]["volumes"]}
    assert mounts[provider["options"]["path"]] == "./grafana/dashboards"
    home = SERVICES["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (
        home.startswith(provider["options"]["path"])
        and (REPO / "grafana" / "dashboards" / Path(home).name).exists()
    )


# --- the server image ------------------------------------------------------------------------------


def test_dockerfile():
    dockerfile = (REPO / "Dockerfile").read_text()
    # Two stages: Node builds the dashboard pages' script, the Python image runs the server.
    (node, _), (base, stage) = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", dockerfile, re.M)
    assert re.fullmatch(r"node:\d+\.\d+\.\d+-\w+(-slim)?", node)
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", base) and stage == ""
    assert 'pip install ".[postgres]"' in dockerfile
    for source in re.findall(r"^COPY\s+(?!--from)(\S+)\s", dockerfile, re.M):
        assert (REPO / source).exists(), source
    for built in re.findall(r"^COPY\s+--from=dashboards-ui\s+\S+\s+(\S+)", dockerfile, re.M):
        assert built.endswith("server/dashboards/static/dashboards/app.js")
    assert "USER app" in dockerfile
    assert re.search(r'CMD \["gunicorn", "config.wsgi:application"', dockerfile)
    ignored = (REPO / ".dockerignore").read_text().split()
    assert "data" in ignored and "**/node_modules" in ignored and ".env" in ignored


@pytest.mark.parametrize("path", ["docs/deploy.md", "docs/dashboards.md"])
def test_the_docs_exist(path):
    assert (REPO / path).read_text().count("\n") > 40
