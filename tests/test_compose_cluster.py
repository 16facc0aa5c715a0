"""docker-compose.cluster.yml on top of docker-compose.yml, checked without Docker: the merged
services, the cluster's remote_servers, macros and Keeper configs, and the names, ports and
credentials they must agree on with each other, the schema's rendering and the clients."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlparse

import yaml
from django.conf import settings

from store.ddl import Topology
from store.migrations_runner import plan
from test_compose import COMPOSE, env_example, interpolate

REPO = Path(settings.REPO_DIR)
OVERRIDE_TEXT = (REPO / "docker-compose.cluster.yml").read_text()
OVERRIDE = yaml.safe_load(OVERRIDE_TEXT)
CLUSTER_XML = ET.parse(REPO / "components/clickhouse-cluster/config.d/cluster.xml").getroot()
KEEPER_XML = ET.parse(REPO / "components/clickhouse-cluster/keeper/keeper.xml").getroot()
PROFILES_XML = ET.parse(REPO / "components/clickhouse-cluster/users.d/cluster-profiles.xml").getroot()
USERS_XML = ET.parse(REPO / "components/clickhouse/users.d/users.xml").getroot()
NODE_CONFIG = {
    "/etc/clickhouse-server/users.d/analytics-users.xml": "./components/clickhouse/users.d/users.xml",
    "/etc/clickhouse-server/config.d/analytics.xml": "./components/clickhouse/config.d/analytics.xml",
    "/etc/clickhouse-server/config.d/cluster.xml": "./components/clickhouse-cluster/config.d/cluster.xml",
    "/etc/clickhouse-server/users.d/cluster-profiles.xml": (
        "./components/clickhouse-cluster/users.d/cluster-profiles.xml"
    ),
}


def _merge_volumes(base: list[str], extra: list[str]) -> list[str]:
    """Compose merges volumes by their path in the container."""
    by_target = {v.split(":")[1]: v for v in base}
    by_target.update({v.split(":")[1]: v for v in extra})
    return list(by_target.values())


def _merge(base, extra):
    if isinstance(base, dict) and isinstance(extra, dict):
        merged = dict(base)
        for key, value in extra.items():
            if key == "volumes" and key in base and isinstance(value, list):
                merged[key] = _merge_volumes(base[key], value)
            else:
                merged[key] = _merge(base[key], value) if key in base else value
        return merged
    return extra


MERGED = _merge(COMPOSE, OVERRIDE)
SERVICES = MERGED["services"]


def _walk(node, env):
    if isinstance(node, dict):
        return {k: _walk(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [_walk(v, env) for v in node]
    return interpolate(node, env) if isinstance(node, str) else node


RESOLVED = _walk(MERGED, env_example())["services"]


def _cluster():
    (remote,) = CLUSTER_XML.find("remote_servers")
    return remote


def replicas_by_shard() -> list[list[tuple[str, int]]]:
    return [
        [(r.findtext("host"), int(r.findtext("port"))) for r in shard.findall("replica")]
        for shard in _cluster().findall("shard")
    ]


def nodes() -> dict[str, dict]:
    return {name: s for name, s in SERVICES.items() if "CLICKHOUSE_SHARD" in s.get("environment", {})}


def keepers() -> dict[str, dict]:
    return {name: s for name, s in SERVICES.items() if "KEEPER_SERVER_ID" in s.get("environment", {})}


def test_two_shards_of_two_replicas_with_internal_replication():
    shards = replicas_by_shard()
    assert [len(replicas) for replicas in shards] == [2, 2]
    assert all(s.findtext("internal_replication") == "true" for s in _cluster().findall("shard"))
    hosts = [host for replicas in shards for host, _ in replicas]
    assert sorted(hosts) == sorted(nodes()) and len(set(hosts)) == 4
    assert {port for replicas in shards for _, port in replicas} == {9000}  # the native port


def test_each_node_s_macros_match_its_place_in_remote_servers():
    macros = CLUSTER_XML.find("macros")
    assert macros.find("shard").get("from_env") == "CLICKHOUSE_SHARD"
    assert macros.find("replica").get("from_env") == "CLICKHOUSE_REPLICA"
    for number, replicas in enumerate(replicas_by_shard(), start=1):
        for host, _ in replicas:
            environment = SERVICES[host]["environment"]
            assert environment["CLICKHOUSE_SHARD"] == str(number), host
            assert environment["CLICKHOUSE_REPLICA"] == host  # unique across the cluster
    # Every macro the rendered schema uses is defined on every node ({database} is built in).
    rendered = "\n".join(sql for _, group in plan(Topology("analytics"), 0) for sql in group)
    used = set(re.findall(r"\{(\w+)\}", rendered)) - {"database"}
    assert used == {child.tag for child in macros}


def test_the_cluster_name_is_the_one_the_server_migrates_on():
    name = _cluster().tag
    for service in ("migrate", "server", "export-worker"):
        assert SERVICES[service]["environment"]["CLICKHOUSE_CLUSTER"] == name
    assert f"ON CLUSTER `{name}`" in plan(Topology(name), 0)[1][1][0]


def test_every_node_runs_the_same_pinned_image_with_the_same_config_and_its_own_volume():
    image = COMPOSE["services"]["clickhouse"]["image"]
    data_volumes = set()
    for name, service in nodes().items():
        assert service["image"] == image, name
        mounts = {v.split(":")[1]: v.split(":")[0] for v in service["volumes"]}
        for target, source in NODE_CONFIG.items():
            assert mounts.get(target) == source, f"{name}: {target}"
        assert (mounts["/var/lib/clickhouse"]) in MERGED["volumes"]
        data_volumes.add(mounts["/var/lib/clickhouse"])
        assert service["restart"] == "unless-stopped" and service["healthcheck"]["test"]
        assert set(service["depends_on"]) >= set(keepers()), name
        assert not service.get("ports"), "only the proxy is published"
    assert len(data_volumes) == 4
    for source in {*NODE_CONFIG.values(), "./components/clickhouse-cluster/keeper/keeper.xml"}:
        assert (REPO / source).exists(), source


def test_three_keepers_agree_with_the_servers_and_with_each_other():
    raft = {
        int(s.findtext("id")): (s.findtext("hostname"), int(s.findtext("port")))
        for s in KEEPER_XML.find("keeper_server/raft_configuration")
    }
    assert len(raft) == 3
    ids = {int(service["environment"]["KEEPER_SERVER_ID"]): name for name, service in keepers().items()}
    assert ids == {server_id: host for server_id, (host, _) in raft.items()}
    assert KEEPER_XML.find("keeper_server/server_id").get("from_env") == "KEEPER_SERVER_ID"
    client_port = int(KEEPER_XML.findtext("keeper_server/tcp_port"))
    zookeeper = [(n.findtext("host"), int(n.findtext("port"))) for n in CLUSTER_XML.find("zookeeper")]
    assert sorted(zookeeper) == sorted((name, client_port) for name in keepers())
    assert {port for _, port in raft.values()} != {client_port}
    for name, service in keepers().items():
        mounts = {v.split(":")[1]: v.split(":")[0] for v in service["volumes"]}
        assert (
            mounts["/etc/clickhouse-keeper/keeper.xml"] == "./components/clickhouse-cluster/keeper/keeper.xml"
        )
        storage = mounts["/var/lib/clickhouse-keeper"]
        assert storage in MERGED["volumes"], name
        assert KEEPER_XML.findtext("keeper_server/log_storage_path").startswith("/var/lib/clickhouse-keeper/")
        assert f"nc 127.0.0.1 {client_port}" in service["healthcheck"]["test"][1]


def test_the_inter_server_secret_is_required_on_every_node_and_in_env_example():
    assert _cluster().find("secret").get("from_env") == "CLICKHOUSE_CLUSTER_SECRET"
    for name, service in nodes().items():
        assert service["environment"]["CLICKHOUSE_CLUSTER_SECRET"].startswith(
            "${CLICKHOUSE_CLUSTER_SECRET:?"
        ), name
        assert RESOLVED[name]["environment"]["CLICKHOUSE_PASSWORD"] == env_example()["CLICKHOUSE_PASSWORD"]
    assert "CLICKHOUSE_CLUSTER_SECRET" in env_example()
    used = {m.group(1) for m in re.finditer(r"\$\{([A-Z_]+)", OVERRIDE_TEXT)}
    assert used <= set(env_example()), sorted(used - set(env_example()))


def test_every_client_talks_to_a_cluster_node_as_its_user():
    env = env_example()
    for service in ("migrate", "server", "export-worker"):
        url = urlparse(RESOLVED[service]["environment"]["CLICKHOUSE_URL"])
        assert url.hostname in nodes() and url.port == 8123, service
        assert (url.username, url.password, url.path) == (
            env["CLICKHOUSE_USER"],
            env["CLICKHOUSE_PASSWORD"],
            "/" + env["CLICKHOUSE_DB"],
        )
        assert set(SERVICES[service]["depends_on"]) & set(nodes()), service
    assert RESOLVED["vector"]["environment"]["CLICKHOUSE_HOST"] in nodes()
    assert RESOLVED["vector"]["environment"]["CLICKHOUSE_HOST"] in SERVICES["vector"]["depends_on"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in SERVICES["grafana"]["volumes"]}
    source = mounts["/etc/grafana/provisioning/datasources"]
    (datasource,) = yaml.safe_load((REPO / source / "clickhouse.yaml").read_text())["datasources"]
    (single,) = yaml.safe_load((REPO / "grafana/provisioning/datasources/clickhouse.yaml").read_text())[
        "datasources"
    ]
    assert datasource["jsonData"]["host"] in nodes()
    assert datasource["jsonData"]["host"] in SERVICES["grafana"]["depends_on"]
    assert {**datasource, "jsonData": {**datasource["jsonData"], "host": "clickhouse"}} == single


def test_users_exist_on_every_node_and_the_profiles_keep_inserts_deduplicated_and_synchronous():
    users = {user.tag for user in USERS_XML.find("users") if user.get("remove") is None}
    assert users == {"analytics", "grafana"}
    writer = PROFILES_XML.find("profiles/analytics_writer")
    base_writer = USERS_XML.find("profiles/analytics_writer")
    assert writer.findtext("distributed_foreground_insert") == "1"
    assert writer.findtext("insert_quorum") == "auto"
    assert base_writer.findtext("insert_deduplicate") == "1"
    assert base_writer.findtext("deduplicate_blocks_in_dependent_materialized_views") == "1"
    assert base_writer.findtext("async_insert") == "0"
    for profile in ("analytics_writer", "readonly"):
        assert PROFILES_XML.findtext(f"profiles/{profile}/distributed_product_mode") == "global"
    assert {p.tag for p in PROFILES_XML.find("profiles")} <= {p.tag for p in USERS_XML.find("profiles")}
