"""CVAT's SDK (cvat-sdk 2.80.0, unchanged) driven against a live server; run by
tests/test_cvat_clients.py with .venv-cvat's interpreter, never imported by the server's tests.

Usage: python cvat_sdk_flows.py <flow> <host> <json arguments>. Each flow prints one JSON object
on its last line of stdout; any exception exits non-zero with the traceback on stderr.
"""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cvat_sdk import make_client, models
from cvat_sdk.core.downloading import Downloader


def _strict(client: Any) -> Any:
    # A version mismatch must fail, not warn, so the test sees it.
    client.config.allow_unsupported_server = False
    client.check_server_version()
    return client


def login_logout(host: str, args: dict) -> dict:
    """make_client with credentials, then the SDK's own login/logout calls."""
    with make_client(host, credentials=(args["user"], args["password"])) as client:
        _strict(client)
        me, _ = client.api_client.users_api.retrieve_self()
        about, _ = client.api_client.server_api.retrieve_about()
        cookies = sorted(client.api_client.cookies.keys())
        token, response = client.api_client.auth_api.create_login(
            models.LoginSerializerExRequest(username=args["user"], password=args["password"])
        )
        key = token.key
        detail, response = client.api_client.auth_api.create_logout()
        client.logout()
        return {
            "username": me.username,
            "groups": me.groups,
            "version": about.version,
            "cookies": cookies,
            "key_length": len(key),
            "logout_status": response.status,
            "logout_detail": detail.detail,
            "key": key,
        }


def access_tokens(host: str, args: dict) -> dict:
    """Create a token over a session, use it with make_client(access_token=...), list, rename,
    read `self`, revoke it; then it no longer works."""
    with make_client(host, credentials=(args["user"], args["password"])) as client:
        expiry = datetime.now(UTC) + timedelta(days=1)
        created, _ = client.api_client.auth_api.create_access_tokens(
            models.AccessTokenWriteRequest(name="sdk token", expiry_date=expiry)
        )
        value, token_id = created.value, created.id
    result: dict[str, Any] = {"created_name": created.name, "owner": created.owner.username}
    with make_client(host, access_token=value) as client:
        _strict(client)
        me, _ = client.api_client.users_api.retrieve_self()
        current, _ = client.api_client.auth_api.retrieve_access_tokens_self()
        listed, _ = client.api_client.auth_api.list_access_tokens()
        renamed, _ = client.api_client.auth_api.partial_update_access_tokens(
            token_id, patched_access_token_write_request=models.PatchedAccessTokenWriteRequest(name="renamed")
        )
        one, _ = client.api_client.auth_api.retrieve_access_tokens(token_id)
        result.update(
            username=me.username,
            self_id=current.id,
            listed_ids=[t.id for t in listed.results],
            renamed=renamed.name,
            retrieved=one.name,
            read_only=one.read_only,
        )
        client.api_client.auth_api.destroy_access_tokens(token_id)
        try:
            client.api_client.users_api.retrieve_self()
            result["works_after_revocation"] = True
        except Exception as error:  # the SDK's ApiException
            result["works_after_revocation"] = False
            result["status_after_revocation"] = getattr(error, "status", None)
    return result


def organization_context(host: str, args: dict) -> dict:
    """Projects seen through X-Organization (organization_slug), `org` and `org_id`, and none."""
    with make_client(host, access_token=args["token"]) as client:
        api = client.api_client
        everywhere = {p.id for p in api.projects_api.list()[0].results}
        by_org = {p.id for p in api.projects_api.list(org=args["org"])[0].results}
        by_org_id = {p.id for p in api.projects_api.list(org_id=args["org_id"])[0].results}
        client.organization_slug = args["org"]
        by_header = {p.id for p in client.projects.list()}
        tasks = [(t.id, t.jobs.count, len(t.get_labels())) for t in client.tasks.list()]
        jobs = [(j.id, j.issues.count, j.labels.url) for j in client.jobs.list()]
        project = client.projects.retrieve(args["project_id"])
        org, _ = api.organizations_api.retrieve(args["org_id"])
        job = client.jobs.retrieve(args["job_id"])
        return {
            "labels": sorted(label.name for label in project.get_labels()),
            "job_labels": sorted(label.name for label in job.get_labels()),
            "issues": [issue.id for issue in job.get_issues()],
            "comments": api.comments_api.list()[0].count,
            "members": sorted((m.user.username, m.role) for m in api.memberships_api.list()[0].results),
            "users": sorted(u.username for u in api.users_api.list()[0].results),
            "everywhere": sorted(everywhere),
            "org": sorted(by_org),
            "org_id": sorted(by_org_id),
            "header": sorted(by_header),
            "project_tasks": project.tasks.count,
            "task_jobs": sorted(tasks),
            "job_issues": sorted(jobs),
            "org_slug": org.slug,
        }


def post_events(host: str, args: dict) -> dict:
    """events_api.create with the organization given as org_id (CVAT's query parameter)."""
    with make_client(host, access_token=args["token"]) as client:
        now = datetime.now(UTC)
        request = models.ClientEventsRequest(
            timestamp=now,
            events=[
                models.EventRequest(
                    scope="load:job",
                    timestamp=now - timedelta(seconds=20),
                    job_id=args["job_id"],
                    payload=json.dumps({"mode": "annotation"}),
                ),
                models.EventRequest(
                    scope="change:frame",
                    timestamp=now - timedelta(seconds=10),
                    job_id=args["job_id"],
                    count=3,
                    duration=400,
                ),
            ],
            previous_event=None,
        )
        kwargs = {args["org_by"]: args["org_value"]}
        answer, response = client.api_client.events_api.create(request, **kwargs)
        return {
            "status": response.status,
            "scopes": [e.scope for e in answer.events],
            "org_ids": [e.org_id for e in answer.events],
            "payload_types": sorted({type(e.payload).__name__ for e in answer.events}),
            "first_payload": answer.events[0].payload,
            "timestamp": answer.timestamp.isoformat(),
        }


def export_job(host: str, args: dict) -> dict:
    """events_api.create_export + requests_api.retrieve (wait_for_completion) + the SDK's
    downloader; then requests_api.list."""
    with make_client(host, access_token=args["token"]) as client:
        client.config.status_check_period = 0.2
        downloader = Downloader(client)
        endpoint = client.api_client.events_api.create_export_endpoint
        query = {"org_id": args["org_id"], "from": args["from"], "to": args["to"]}
        request = downloader.prepare_file(endpoint, query_params=query, status_check_period=0.2)
        out = Path(tempfile.mkdtemp())
        path = downloader.download_file(request.result_url, out)
        listed, _ = client.api_client.requests_api.list()
        return {
            "status": request.status.value,
            "operation": request.operation.type,
            "filename": path.name,
            "csv": path.read_bytes().decode("utf-8"),
            "listed": [r.id for r in listed.results],
            "request_id": request.id,
        }


def classic_export(host: str, args: dict) -> dict:
    """events_api.list: CVAT's classic flow (202 + query_id, poll until 201, action=download)."""
    import time

    with make_client(host, access_token=args["token"]) as client:
        api = client.api_client.events_api
        params = {"org_id": args["org_id"], "_from": args["from"], "to": args["to"]}
        _, first = api.list(**params, _parse_response=False)
        query_id = json.loads(first.data)["query_id"]
        statuses = [first.status]
        for _ in range(200):
            _, response = api.list(**params, query_id=query_id, _parse_response=False)
            statuses.append(response.status)
            if response.status == 201:
                break
            time.sleep(0.1)
        _, download = api.list(**params, query_id=query_id, action="download", _parse_response=False)
        return {
            "statuses": sorted(set(statuses)),
            "download_status": download.status,
            "disposition": download.headers.get("Content-Disposition"),
            "csv": download.data.decode("utf-8"),
        }


FLOWS = {
    f.__name__: f
    for f in (login_logout, access_tokens, organization_context, post_events, export_job, classic_export)
}

if __name__ == "__main__":
    flow, host, raw = sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "{}"
    print(json.dumps(FLOWS[flow](host, json.loads(raw)), default=str))
