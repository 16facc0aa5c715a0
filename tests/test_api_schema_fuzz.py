"""Schemathesis over every operation of the OpenAPI schema (`/api/schema/`), signed in with a token
as the owner of an organization that has a project, a task and a job, through the real WSGI
application: no answer is a server error, and every answer is one the schema documents (status
code, content type, headers, body).

Bounded: SCHEMA_FUZZ_EXAMPLES examples per operation (default 8), valid and invalid data, with
Hypothesis derandomized so that a run is repeatable; raise it to search harder
(`SCHEMA_FUZZ_EXAMPLES=200 pytest tests/test_api_schema_fuzz.py`).
"""

from __future__ import annotations

import os

import orjson
import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import AccessToken
from conftest import create_project_tree
from exports.query import CONTENT_TYPES, FORMATS
from exports.worker import run_pending

EXAMPLES = int(os.environ.get("SCHEMA_FUZZ_EXAMPLES", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def schema_document() -> dict:
    """The schema `/api/schema/` serves, generated in process (collection may not use the database)."""
    return orjson.loads(orjson.dumps(SchemaGenerator().get_schema(request=None, public=True)))


def load_schema() -> schemathesis.BaseSchema:
    loaded = schemathesis.openapi.from_dict(schema_document())
    loaded.app = get_wsgi_application()
    return loaded


schema = load_schema()


@pytest.fixture
def credentials(org_api, clickhouse) -> dict[str, str]:
    create_project_tree(org_api, tasks=1, jobs_per_task=1)
    _, key = AccessToken.issue(org_api.user, "schemathesis")
    return {"Authorization": f"Token {key}", "X-Organization": "acme"}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case, credentials):
    headers = dict(credentials)
    if case.headers and "X-Organization" in case.headers:
        headers.pop("X-Organization")
    case.call_and_validate(headers=headers, checks=CHECKS)


@pytest.mark.parametrize("file_format", FORMATS)
def test_both_export_flows_answer_as_documented(credentials, file_format):
    """The answers fuzzing rarely reaches: a finished export's file in each format, through both
    flows, validated against the schema (status code, media type, headers)."""

    def call(path: str, method: str, **query):
        case = schema[path][method].Case(query=query)
        return case.call_and_validate(headers=credentials, checks=CHECKS)

    rq_id = call("/api/events/export/", "POST", format=file_format).json()["rq_id"]
    classic = {
        "format": file_format,
        "query_id": call("/api/events", "GET", format=file_format).json()["query_id"],
    }
    assert run_pending() == 2
    status = schema["/api/requests/{rq_id}/"]["GET"].Case(path_parameters={"rq_id": rq_id})
    assert status.call_and_validate(headers=credentials, checks=CHECKS).json()["status"] == "finished"
    download = call("/api/events/download/", "GET", rq_id=rq_id)
    assert download.headers["content-type"] == [CONTENT_TYPES[file_format]]
    assert call("/api/events", "GET", **classic).status_code == 201
    download = call("/api/events", "GET", **classic, action="download")
    assert download.headers["content-type"] == [CONTENT_TYPES[file_format]]


def test_every_operation_documents_its_errors_and_media_types():
    document = schema_document()
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert len(operations) > 50
    for path, method, operation in operations:
        responses = operation["responses"]
        for code in ("400", "404"):
            assert "application/json" in responses[code].get("content", {}), (method, path, code)
        assert any(code < "300" for code in responses), (method, path)
        for code, answer in responses.items():
            if code >= "400":
                assert answer.get("content"), (method, path, code)
    download = {
        media_type
        for path in ("/api/events/download/", "/api/events")
        for media_type in document["paths"][path]["get"]["responses"]["200"]["content"]
    }
    assert download == set(CONTENT_TYPES.values())
