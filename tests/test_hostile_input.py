"""The hostile requests of issue 12: each one answers a 4xx JSON error that names the field at
fault, never a 500. Bodies nested deeper than API_MAX_JSON_DEPTH are refused before parsing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from dashboards.catalog import dashboards

HUGE = 1180591620717411303424  # 2**70: no 64-bit column holds it


def nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def nested_text(depth: int, leaf: str = "1") -> str:
    return '{"a":' * depth + leaf + "}" * depth


def error_text(response) -> str:
    """The whole JSON error, for 'does it name the field' checks in either error shape."""
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return response.content.decode()


def assert_names(response, status: int, field: str) -> None:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert field in error_text(response), response.content[:300]


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/analytics/users/me/summary?end_date=0001-01-01", "end_date"),
        ("/api/analytics/users/me/summary?start_date=0001-01-01", "start_date"),
        ("/api/analytics/users/me/summary?start_date=9999-12-31", "start_date"),
        ("/api/analytics/users/me/raw?end_date=0001-01-01", "end_date"),
        (f"/api/analytics/users/{HUGE}/summary", "user"),
        (f"/api/analytics/users/{HUGE}/raw", "user"),
        ("/api/analytics/kpis/values?start_timestamp=0001-01-01T00:00:00%2B01:00", "start_timestamp"),
        ("/api/analytics/kpis/values?end_timestamp=9999-12-31T23:59:59-01:00", "end_timestamp"),
        ("/api/analytics/kpis/values?end_timestamp=1e400", "end_timestamp"),
        ("/api/analytics/kpis/values?end_timestamp=nan", "end_timestamp"),
    ],
)
def test_out_of_range_query_parameters_name_the_field(org_api, clickhouse, url, field):
    assert_names(org_api.get(url), 400, field)


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1800-01-01"])
@pytest.mark.parametrize("name", ["from", "to"])
def test_export_times_out_of_range_name_the_parameter(org_api, clickhouse, moment, name):
    query = f"{name}={moment}" if name == "from" else f"from=1970-01-02&to={moment}"
    assert_names(org_api.post(f"/api/events/export?{query}"), 400, name)
    assert_names(org_api.get(f"/api/events?{query}"), 400, name)


def test_export_id_filters_out_of_range_name_the_parameter(org_api, clickhouse):
    assert_names(org_api.post(f"/api/events/export?job_id={HUGE}"), 400, "job_id")
    assert_names(org_api.get(f"/api/events?user_id={HUGE}"), 400, "user_id")


def query_body(**measure_fields) -> dict:
    return {
        "startTime": "2026-11-02T00:00:00Z",
        "endTime": "2026-11-03T00:00:00Z",
        "measures": [{"measureType": "countItemInAnnotationTimeBucket", **measure_fields}],
    }


def test_query_edges_beyond_64_bits_name_the_field(org_api, clickhouse):
    response = org_api.post("/api/analytics/query", query_body(params={"edgesMs": [HUGE]}), format="json")
    assert_names(response, 400, "measures[0].params.edgesMs")


def test_query_times_beyond_the_calendar_name_the_field(org_api, clickhouse):
    for start in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", 10**30):
        response = org_api.post("/api/analytics/query", {**query_body(), "startTime": start}, format="json")
        assert_names(response, 400, "startTime")


def test_a_query_body_nested_10000_deep_is_refused_before_parsing(org_api, clickhouse, settings):
    text = '{"startTime": 1, "measures": [' + nested_text(10_000) + "]}"
    response = org_api.post("/api/analytics/query", text, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert "nest" in error_text(response)
    assert str(settings.API_MAX_JSON_DEPTH) in error_text(response)


def test_bodies_just_within_the_depth_limit_are_parsed(org_api, clickhouse, settings):
    # The body object itself is level 1: measures, the measure, params and the nested value fill the rest.
    settings.API_MAX_JSON_DEPTH = 8
    ok = query_body(params={"x": nested(4)})
    too_deep = query_body(params={"x": nested(5)})
    ok_response = org_api.post("/api/analytics/query", ok, format="json")
    # Parsed: the measure refuses the unknown parameter by its name.
    assert_names(ok_response, 400, "measures[0].params")
    deep_response = org_api.post("/api/analytics/query", too_deep, format="json")
    assert deep_response.status_code == 400
    assert "nested deeper than 8" in error_text(deep_response)


def test_brackets_inside_strings_do_not_count_as_depth(org_api, clickhouse, settings):
    settings.API_MAX_JSON_DEPTH = 4
    response = org_api.post(
        "/api/organizations", {"slug": "brackets", "name": "[[[[{{{{" + '\\"[[' * 5}, format="json"
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(("depth", "named"), [(1_000, "events[0].payload"), (10_000, "body")])
def test_client_event_payloads_nested_too_deep_get_400(org_api, clickhouse, depth, named):
    # 1,000 levels parse (orjson stops at 1,024) and the payload is refused by name; 10,000 do not.
    text = (
        '{"timestamp": "' + now_iso() + '", "events": [{"scope": "click:element", '
        '"timestamp": "' + now_iso() + '", "payload": ' + nested_text(depth) + "}]}"
    )
    response = org_api.post("/api/events", text, content_type="application/json")
    assert_names(response, 400, named)
    assert "deep" in error_text(response) or "depth" in error_text(response)


def test_a_payload_string_nested_too_deep_names_the_event(org_api, clickhouse, settings):
    import orjson

    payload = orjson.dumps(nested(settings.API_MAX_JSON_DEPTH + 1)).decode()
    body = {
        "timestamp": now_iso(),
        "events": [{"scope": "click:element", "timestamp": now_iso(), "payload": payload}],
    }
    response = org_api.post("/api/events", body, format="json")
    assert_names(response, 400, "events[0].payload")


def test_domain_bodies_nested_too_deep_are_400(org_api):
    response = org_api.post(
        "/api/projects",
        '{"name": "x", "labels": ' + "[" * 5000 + "]" * 5000 + "}",
        content_type="application/json",
    )
    assert response.status_code == 400, response.content[:300]
    assert "nested deeper than" in error_text(response)


def test_dashboard_id_variables_take_only_ids(org_api, clickhouse):
    viewer = APIClient()
    viewer.force_login(org_api.user)
    model = dashboards()["all-events"]
    panel_id = next(p["id"] for p in model["panels"] if p.get("targets"))
    for value in (["abc"], [str(HUGE)], ["1; DROP TABLE events"], ["-2"]):
        response = viewer.post(
            f"/analytics/api/d/all-events/panels/{panel_id}",
            {"from": "now-1h", "to": "now", "variables": {"organization": value}},
            format="json",
        )
        assert_names(response, 400, "variables.organization")
    for body in (
        {"from": "0001-01-01T00:00:00Z"},
        {"from": str(10**20)},
        {"to": "9999-12-31T23:59:59-01:00"},
        {"timezone": "Europe"},
        {"timezone": "a" * 300},
    ):
        response = viewer.post(f"/analytics/api/d/all-events/panels/{panel_id}", body, format="json")
        assert response.status_code == 400, response.content[:300]
        assert next(iter(body)) in error_text(response)


def test_unknown_api_routes_answer_json_404(org_api):
    for path in ("/api/no-such-thing", "/api/analytics/nope/1", "/api/auth/tokens/%C2%84/"):
        response = org_api.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"].startswith("application/json"), path


def test_dashboard_panel_bodies_never_get_a_server_error(org_api, clickhouse):
    """The pages' panel and variable endpoints are not in the OpenAPI schema (they serve the
    built-in pages), so they get their own property test: any body is answered 2xx or 4xx."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from dashboards.macros import dashboard_variables

    viewer = APIClient()
    viewer.force_login(org_api.user)
    model = dashboards()["all-events"]
    panel_ids = [p["id"] for p in model["panels"] if p.get("targets")][:6]
    names = [v.name for v in dashboard_variables(model) if not v.hidden]
    times = st.one_of(
        st.sampled_from(["now", "now-1h", "now-7d", "now-99999999999y", "0", "-1", "1e30", ""]),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.text(max_size=30),
        st.datetimes().map(lambda moment: moment.isoformat()),
        st.none(),
    )
    values = st.one_of(
        st.text(max_size=20), st.integers(min_value=-(2**70), max_value=2**70), st.just("$__all")
    )
    bodies = st.fixed_dictionaries(
        {},
        optional={
            "from": times,
            "to": times,
            "timezone": st.one_of(st.sampled_from(["utc", "Europe/Berlin", "Europe", "a" * 300]), st.text()),
            "variables": st.dictionaries(
                st.sampled_from([*names, "org_ids", "nope"]), st.one_of(values, st.lists(values, max_size=3))
            ),
        },
    )

    @settings(
        max_examples=60,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(body=bodies, panel=st.sampled_from(panel_ids), variable=st.sampled_from(names))
    def check(body, panel, variable):
        for url in (
            f"/analytics/api/d/all-events/panels/{panel}",
            f"/analytics/api/d/all-events/variables/{variable}",
        ):
            response = viewer.post(url, body, format="json")
            assert response.status_code < 500, (url, body, response.content[:300])
            assert response["Content-Type"].startswith("application/json")

    check()


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ("[]", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('[[], [[]], [[[]]], {"x": {"y": {"z": 1}}}]', 4),
        ('["[[[[[[[[", "\\"]]]]", {"k[": "{{{{"}]', 2),
        (nested_text(9), 9),
    ],
)
def test_the_depth_check_counts_levels_outside_strings(text, depth):
    from config.parsers import TooDeep, check_json_depth

    check_json_depth(text, limit=depth)  # exactly at the limit: accepted
    if depth:
        with pytest.raises(TooDeep, match="nested deeper than"):
            check_json_depth(text, limit=depth - 1)


def test_unbalanced_brackets_are_refused_without_parsing():
    from config.parsers import TooDeep, check_json_depth

    with pytest.raises(TooDeep, match="do not balance"):
        check_json_depth("[" * 70 + "]" * 10, limit=60)
