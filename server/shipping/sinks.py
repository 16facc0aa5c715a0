"""Where spooled batches go: straight into ClickHouse, or to Vector's http_server source."""

from __future__ import annotations

from typing import Protocol

import urllib3

from shipping.refusals import PERMANENT_HTTP_STATUSES, RefusedError
from store.client import get_client
from store.migrations_runner import configured_topology
from store.schema import EVENTS

# Explicit, so a server whose defaults differ (ClickHouse >= 26.2 turns async_insert on) cannot
# change what a retry does: a synchronous insert, deduplicated by the batch token in the source
# table and in every materialized-view target.
INSERT_SETTINGS = {
    "async_insert": 0,
    "wait_for_async_insert": 1,
    "async_insert_deduplicate": 1,
    "insert_deduplicate": 1,
    "deduplicate_blocks_in_dependent_materialized_views": 1,
    "input_format_skip_unknown_fields": 0,
    # One block per batch (batches hold far fewer rows than max_insert_block_size): an INSERT the
    # engine refuses then wrote nothing, which splitting a refused batch relies on.
    "input_format_parallel_parsing": 0,
}


class SinkError(RuntimeError):
    pass


class Sink(Protocol):
    name: str

    def send(self, payload: bytes, token: str) -> None:
        """Deliver JSON rows separated by newlines (JSONEachRow), or raise."""


class ClickHouseSink:
    name = "clickhouse"

    def send(self, payload: bytes, token: str) -> None:
        get_client().raw_insert(
            EVENTS.name,  # the Distributed table on a cluster: same name
            None,
            payload,
            fmt="JSONEachRow",
            # On a cluster `events` is Distributed: insert into every shard before answering.
            settings={
                **INSERT_SETTINGS,
                **configured_topology().insert_settings(),
                "insert_deduplication_token": token,
            },
        )


class VectorSink:
    """POSTs a JSON array; with end-to-end acknowledgements Vector answers 2xx only once the
    ClickHouse sink (or its disk buffer) has the events."""

    name = "vector"

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self._http = urllib3.PoolManager(timeout=urllib3.Timeout(total=timeout), retries=False)

    def send(self, payload: bytes, token: str) -> None:
        # A JSON row holds no raw newline (it is escaped inside strings): the separators are the
        # newlines between rows.
        body = b"[" + payload.replace(b"\n", b",") + b"]"
        response = self._http.request(
            "POST",
            self.url,
            body=body,
            headers={"Content-Type": "application/json", "X-Batch-Token": token},
            preload_content=True,
        )
        if response.status in PERMANENT_HTTP_STATUSES:
            raise RefusedError(f"Vector refused the batch: HTTP {response.status}: {response.data[:300]!r}")
        if not 200 <= response.status < 300:
            raise SinkError(f"Vector answered HTTP {response.status}: {response.data[:300]!r}")
