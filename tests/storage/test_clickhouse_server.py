"""The collector on a real ClickHouse server (`TOKENTRAIL_CLICKHOUSE_URL=http://...`): migrations,
OTLP ingest, a duplicate delivery counted once, and the query API, over the same SQL as chDB.

No ClickHouse server binary can be installed from the package registries this project may use
(Debian ships 18.16, years older than the SQL here; the PyPI and npm packages only download one at
run time), so this runs against a server you point it at, e.g. the one of deploy/docker-compose.yml:

    TOKENTRAIL_TEST_CLICKHOUSE_URL=http://tokentrail:change-me@127.0.0.1:8123 \\
        .venv/bin/python -m pytest tests/storage/test_clickhouse_server.py

Each run uses a database of its own, dropped at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import clickhouse_connect
import pytest

from tests.ingest.otlp_bodies import START_NS, llm_span, traces_request
from tests.support import CollectorProcess

SERVER_ENV = "TOKENTRAIL_TEST_CLICKHOUSE_URL"
PROTOBUF = {"Content-Type": "application/x-protobuf"}
TRACE_A = "5b8efff798038103d269b633813fc60c"
TRACE_B = "5b8efff798038103d269b633813fc60d"


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    """A fresh database on the server named by TOKENTRAIL_TEST_CLICKHOUSE_URL, dropped afterwards."""
    base = os.environ.get(SERVER_ENV)
    if not base:
        pytest.skip(f"set {SERVER_ENV}=http://user:password@host:8123 to run against a ClickHouse server")
    parts = urlsplit(base)
    database = "tokentrail_test_" + uuid.uuid4().hex[:12]
    yield urlunsplit((parts.scheme, parts.netloc, "/" + database, "", ""))
    admin = clickhouse_connect.get_client(dsn=urlunsplit((parts.scheme, parts.netloc, "/default", "", "")))
    try:
        admin.command("DROP DATABASE IF EXISTS {db:Identifier}", parameters={"db": database})
    finally:
        admin.close()


@pytest.fixture(scope="module")
def server_collector(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    data_dir: Path = tmp_path_factory.mktemp("server-collector") / "data"
    data_dir.mkdir()
    process = CollectorProcess(data_dir, env={"TOKENTRAIL_CLICKHOUSE_URL": server_url}).start()
    try:
        yield process
    finally:
        process.stop()


def test_ingest_and_query_on_a_clickhouse_server(server_collector: CollectorProcess) -> None:
    key = server_collector.create_key("server-shop")["key"]
    root = llm_span(TRACE_A, "eee19b7ec3c1b171", name="agent", duration_ns=3_000_000_000)
    child = llm_span(TRACE_A, "eee19b7ec3c1b172", start_ns=START_NS + 1_000_000)
    child.parent_span_id = root.span_id
    other = llm_span(TRACE_B, "eee19b7ec3c1b173", start_ns=START_NS + 5_000_000)
    body = traces_request(root, child, other).SerializeToString()

    with server_collector.client(key) as client:
        for _ in range(2):  # the same delivery twice, as an exporter retrying would
            response = client.post("/v1/traces", content=body, headers=PROTOBUF)
            assert response.status_code == 200, response.text

        listed = client.get("/api/traces", params={"limit": 10}).json()
        assert listed["total"] == 2, listed
        assert {trace["trace_id"] for trace in listed["traces"]} == {TRACE_A, TRACE_B}

        detail = client.get(f"/api/traces/{TRACE_A}").json()
        spans = {span["span_id"]: span for span in detail["spans"]}
        assert set(spans) == {"eee19b7ec3c1b171", "eee19b7ec3c1b172"}, "the duplicate counted once"
        assert spans["eee19b7ec3c1b172"]["parent_span_id"] == "eee19b7ec3c1b171"
        assert spans["eee19b7ec3c1b172"]["request_model"] == "gpt-4o"
        assert spans["eee19b7ec3c1b172"]["input_tokens"] == 12

        stats = client.get("/api/stats", params={"group_by": "model"}).json()
        total = sum(row["span_count"] for row in stats["rows"])
        assert total == 3, stats
        assert sum(row["total_tokens"] for row in stats["rows"]) == 3 * 52

    # Another project sees none of it, on the server as on chDB.
    stranger = server_collector.create_key("server-other")["key"]
    with server_collector.client(stranger) as client:
        assert client.get("/api/traces").json()["total"] == 0


def test_migrations_apply_once_on_restart(server_collector: CollectorProcess) -> None:
    """A second start on the same server database finds its migrations applied and the data there."""
    key = server_collector.create_key("server-restart")["key"]
    with server_collector.client(key) as client:
        body = traces_request(llm_span(TRACE_A, "eee19b7ec3c1b174")).SerializeToString()
        assert client.post("/v1/traces", content=body, headers=PROTOBUF).status_code == 200
    server_collector.stop()
    server_collector.start()
    with server_collector.client(key) as client:
        assert client.get("/api/traces").json()["total"] == 1
