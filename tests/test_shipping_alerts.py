"""The pipeline's alerting, checked without Grafana or Prometheus (neither runs here): the provisioned
alert rules, the Prometheus scrape config, the Grafana datasource and the Monitoring dashboard's
panel are parsed and cross-checked against each other, against docker-compose.yml and against the
metrics the server really exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from django.conf import settings
from django.urls import reverse
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(settings.REPO_DIR)
ALERTING = yaml.safe_load((REPO / "grafana/provisioning/alerting/shipping.yaml").read_text())
PROMETHEUS = yaml.safe_load((REPO / "components/prometheus/prometheus.yml").read_text())
(DATASOURCE,) = yaml.safe_load((REPO / "grafana/provisioning/datasources/prometheus.yaml").read_text())[
    "datasources"
]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
MONITORING = json.loads((REPO / "grafana/dashboards/monitoring.json").read_text())
RULES = [rule for group in ALERTING["groups"] for rule in group["rules"]]
METRIC = re.compile(r"\b(analytics_[a-z_]+)\b")


@pytest.fixture
def exported(api, make_user) -> set[str]:
    """Every sample name the server's metrics endpoint answers with, read as Prometheus reads it."""
    api.force_authenticate(make_user("root", superuser=True))
    response = api.get(reverse("metrics"))
    assert response.status_code == 200
    return {
        sample.name
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def promql(rule_or_panel: dict) -> list[str]:
    if "targets" in rule_or_panel:
        return [target["expr"] for target in rule_or_panel["targets"]]
    return [query["model"]["expr"] for query in rule_or_panel["data"] if "expr" in query["model"]]


def shipping_panel() -> dict:
    return next(p for p in MONITORING["panels"] if p["title"] == "Event shipping")


def test_every_rule_is_well_formed():
    assert ALERTING["apiVersion"] == 1 and RULES
    assert len({rule["uid"] for rule in RULES}) == len(RULES)
    for rule in RULES:
        refs = {query["refId"] for query in rule["data"]}
        assert rule["condition"] in refs, rule["title"]
        for query in rule["data"]:
            assert query["model"]["refId"] == query["refId"]
            if query["datasourceUid"] == "__expr__":
                assert query["model"]["expression"] in refs - {query["refId"]}
            else:
                assert query["datasourceUid"] == DATASOURCE["uid"]
                assert query["relativeTimeRange"]["from"] > 0
        assert rule["noDataState"] in ("OK", "NoData", "Alerting") and rule["execErrState"] == "Alerting"
        assert re.fullmatch(r"\d+[sm]", rule["for"]) and rule["annotations"]["summary"]
    # The stuck rule fires on missing data too: a server that is not scraped is not known to ship.
    stuck = next(rule for rule in RULES if rule["uid"] == "analytics-shipping-stuck")
    assert promql(stuck) == ["max(analytics_shipping_stuck)"] and stuck["noDataState"] == "Alerting"


def test_every_metric_in_the_rules_and_the_panel_is_exported(exported):
    used = {
        name for item in [*RULES, shipping_panel()] for expr in promql(item) for name in METRIC.findall(expr)
    }
    assert used and used <= exported, f"not exported: {sorted(used - exported)}"
    for name in (
        "analytics_shipping_spool_depth_rows",
        "analytics_shipping_oldest_unshipped_age_seconds",
        "analytics_shipping_batches_shipped_total",
        "analytics_shipping_batches_retried_total",
        "analytics_shipping_rows_quarantined_total",
    ):
        assert name in exported


def test_the_panel_is_on_the_monitoring_dashboard_and_only_in_grafana(api, make_user):
    panel = shipping_panel()
    assert panel["datasource"] == {"type": "prometheus", "uid": DATASOURCE["uid"]}
    assert all(target["datasource"]["uid"] == DATASOURCE["uid"] for target in panel["targets"])
    bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in MONITORING["panels"] if p is not panel)
    assert panel["gridPos"]["y"] >= bottom  # below the others, overlapping none
    # The built-in pages run ClickHouse SQL only: they leave this panel out.
    api.force_login(make_user("root", superuser=True))
    page = api.get("/analytics/d/monitoring/")
    assert page.status_code == 200 and b"Event shipping" not in page.content and b"Exceptions" in page.content


def test_prometheus_scrapes_the_metrics_endpoint_with_the_token():
    (job,) = PROMETHEUS["scrape_configs"]
    assert job["metrics_path"] == reverse("metrics")
    (target,) = job["static_configs"][0]["targets"]
    host, port = target.split(":")
    assert host in SERVICES and host == "server" and port == "8000"  # gunicorn's PORT default
    assert job["authorization"]["type"] == "Bearer"
    prometheus = SERVICES["prometheus"]
    start = " ".join(prometheus["command"])
    assert f"> {job['authorization']['credentials_file']}" in start
    assert "--config.file=/etc/prometheus/prometheus.yml" in start
    mounts = {v.split(":")[1]: v.split(":")[0] for v in prometheus["volumes"]}
    assert mounts["/etc/prometheus/prometheus.yml"] == "./components/prometheus/prometheus.yml"
    assert Path(job["authorization"]["credentials_file"]).parent == Path("/prometheus")
    assert mounts["/prometheus"] in COMPOSE["volumes"]
    # The same variable authorizes the scraper on the server.
    assert prometheus["environment"]["METRICS_TOKEN"] == SERVICES["server"]["environment"]["METRICS_TOKEN"]


def test_grafana_reads_prometheus_and_provisions_the_rules():
    url = urlparse(DATASOURCE["url"])
    assert DATASOURCE["type"] == "prometheus" and url.hostname in SERVICES and url.port == 9090
    mounts = {v.split(":")[1]: v.split(":")[0] for v in SERVICES["grafana"]["volumes"]}
    assert mounts["/etc/grafana/provisioning/alerting"] == "./grafana/provisioning/alerting"
    assert mounts["/etc/grafana/provisioning/datasources"] == "./grafana/provisioning/datasources"


def test_the_compose_healthcheck_fails_on_a_stuck_pipeline():
    check = " ".join(SERVICES["server"]["healthcheck"]["test"])
    assert "/healthz" in check and "urlopen" in check  # urlopen raises on 503
    assert reverse("liveness") == "/healthz"
    # ... and that must not keep users out: the proxy needs the server started, not healthy.
    assert SERVICES["proxy"]["depends_on"]["server"]["condition"] == "service_started"
