"""POST /v1/logs against a real collector: GenAI content records stored per span, merged into
the trace on read whichever arrives first, found by the trace search, answered like /v1/traces."""

from __future__ import annotations

import gzip
import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support import CollectorProcess
from tokentrail import semconv as sc

from .otlp_bodies import (
    JSON,
    PROTOBUF,
    START_NS,
    chat_records,
    committed,
    llm_span,
    log_record,
    logs_request,
    partial_success,
    post,
    traces_request,
)


@pytest.fixture
def api(collector: CollectorProcess) -> Iterator[httpx.Client]:
    """A client with the key of a fresh project."""
    key = collector.create_key("logs-" + uuid.uuid4().hex[:10])["key"]
    with collector.client(key) as client:
        yield client


def new_ids() -> tuple[str, str]:
    return uuid.uuid4().hex, os.urandom(8).hex()


def the_span(api: httpx.Client, trace_id: str) -> dict[str, Any]:
    response = api.get(f"/api/traces/{trace_id}")
    assert response.status_code == 200, response.text
    (span,) = response.json()["spans"]
    return span


def chat(text: str) -> list[tuple[str, str]]:
    """(role, text) of each message of a canonical messages JSON text."""
    return [
        (message[sc.MESSAGE_ROLE], "".join(part.get("content", "") for part in message[sc.MESSAGE_PARTS]))
        for message in json.loads(text)
    ]


@pytest.mark.parametrize("order", ["logs-first", "spans-first"])
def test_content_records_fill_the_span_whichever_arrives_first(api: httpx.Client, order: str) -> None:
    trace_id, span_id = new_ids()
    spans = traces_request(llm_span(trace_id, span_id))
    logs = logs_request(*chat_records(trace_id, span_id, "Where is my refund?", "It left today."))
    for message in (logs, spans) if order == "logs-first" else (spans, logs):
        committed(api, message)
    span = the_span(api, trace_id)
    assert chat(span[sc.INPUT_TEXT]) == [("user", "Where is my refund?")]
    assert chat(span[sc.OUTPUT_TEXT]) == [("assistant", "It left today.")]
    assert span[sc.OUTPUT_TOKENS] == 40  # the span's own figures are untouched


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [("json", False), ("json", True), ("protobuf", True)],
    ids=["json", "json-gzip", "protobuf-gzip"],
)
def test_every_encoding_is_accepted_and_answered_in_kind(
    api: httpx.Client, encoding: str, compress: bool
) -> None:
    trace_id, span_id = new_ids()
    committed(api, traces_request(llm_span(trace_id, span_id)))
    response = post(
        api, logs_request(*chat_records(trace_id, span_id, "q?", "a.")), encoding=encoding, compress=compress
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(JSON if encoding == "json" else PROTOBUF)
    assert chat(the_span(api, trace_id)[sc.OUTPUT_TEXT]) == [("assistant", "a.")]


def test_a_hand_written_otlp_json_body(api: httpx.Client) -> None:
    trace_id, span_id = new_ids()
    committed(api, traces_request(llm_span(trace_id, span_id)))
    document = {
        "resourceLogs": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "shop"}}]},
            "scopeLogs": [{"logRecords": [{
                "timeUnixNano": str(START_NS + 5),
                "eventName": "gen_ai.user.message",
                "traceId": trace_id.upper(),
                "spanId": span_id,
                "body": {"kvlistValue": {"values": [{"key": "content", "value": {"stringValue": "hand written"}}]}},
            }]}],
        }]
    }  # fmt: skip
    response = api.post("/v1/logs", content=json.dumps(document), headers={"Content-Type": JSON})
    assert response.status_code == 200, response.text
    assert response.json() == {}  # full success: partial_success unset
    assert chat(the_span(api, trace_id)[sc.INPUT_TEXT]) == [("user", "hand written")]


def test_a_duplicate_delivery_counts_once(api: httpx.Client) -> None:
    trace_id, span_id = new_ids()
    logs = logs_request(*chat_records(trace_id, span_id, "twice?", "once."))
    committed(api, logs)
    committed(api, traces_request(llm_span(trace_id, span_id)))
    committed(api, logs, compress=True)  # the exporter's retry
    span = the_span(api, trace_id)
    assert chat(span[sc.INPUT_TEXT]) == [("user", "twice?")]
    assert chat(span[sc.OUTPUT_TEXT]) == [("assistant", "once.")]


def test_the_spans_own_text_wins(api: httpx.Client) -> None:
    trace_id, span_id = new_ids()
    own = json.dumps([{"role": "user", "parts": [{"type": "text", "content": "from the span"}]}])
    committed(api, traces_request(llm_span(trace_id, span_id, attributes={sc.GEN_AI_INPUT_MESSAGES: own})))
    committed(api, logs_request(*chat_records(trace_id, span_id, "from the logs", "answer from the logs")))
    span = the_span(api, trace_id)
    assert chat(span[sc.INPUT_TEXT]) == [("user", "from the span")]
    assert chat(span[sc.OUTPUT_TEXT]) == [("assistant", "answer from the logs")]  # it had none


def test_records_of_other_spans_stay_apart(api: httpx.Client) -> None:
    trace_id, first = new_ids()
    second = os.urandom(8).hex()
    committed(
        api, traces_request(llm_span(trace_id, first), llm_span(trace_id, second, start_ns=START_NS + 10))
    )
    committed(
        api,
        logs_request(
            *chat_records(trace_id, first, "first question", "first answer"),
            *chat_records(trace_id, second, "second question", "second answer"),
        ),
    )
    spans = api.get(f"/api/traces/{trace_id}").json()["spans"]
    by_id = {span[sc.SPAN_ID]: span for span in spans}
    assert chat(by_id[first][sc.INPUT_TEXT]) == [("user", "first question")]
    assert chat(by_id[second][sc.OUTPUT_TEXT]) == [("assistant", "second answer")]


def test_the_trace_search_finds_content_that_came_as_logs(api: httpx.Client) -> None:
    trace_id, span_id = new_ids()
    other_trace, other_span = new_ids()
    committed(api, traces_request(llm_span(trace_id, span_id), llm_span(other_trace, other_span)))
    committed(api, logs_request(*chat_records(trace_id, span_id, "my Zanzibar parcel", "on its way")))
    found = api.get("/api/traces", params={"search": "zanzibar"}).json()
    assert [trace[sc.TRACE_ID] for trace in found["traces"]] == [trace_id]
    assert found["total"] == 1
    # Still a filter of this project only, and combined with the others.
    assert api.get("/api/traces", params={"search": "zanzibar", "status": "error"}).json()["total"] == 0


def test_the_search_does_not_reach_another_projects_content(
    api: httpx.Client, collector: CollectorProcess
) -> None:
    trace_id, span_id = new_ids()
    committed(api, traces_request(llm_span(trace_id, span_id)))
    other_key = collector.create_key("logs-other-" + uuid.uuid4().hex[:8])["key"]
    with collector.client(other_key) as other:
        committed(other, logs_request(*chat_records(trace_id, span_id, "Timbuktu secret", "no")))
    assert api.get("/api/traces", params={"search": "timbuktu"}).json()["total"] == 0
    assert the_span(api, trace_id)[sc.INPUT_TEXT] == ""


def test_some_records_rejected_is_partial_success(api: httpx.Client) -> None:
    trace_id, span_id = new_ids()
    good = chat_records(trace_id, span_id, "kept", "yes")
    orphan = log_record("", "", sc.GEN_AI_USER_MESSAGE_EVENT, {"content": "no span"})
    response = post(api, logs_request(*good, orphan))
    assert response.status_code == 200, response.text
    partial = partial_success(response)
    assert partial["rejected_log_records"] == 1
    assert "no trace_id" in partial["error_message"]
    committed(api, traces_request(llm_span(trace_id, span_id)))
    assert chat(the_span(api, trace_id)[sc.INPUT_TEXT]) == [("user", "kept")]


def test_plain_application_logs_are_skipped_with_a_warning(api: httpx.Client) -> None:
    trace_id, span_id = new_ids()
    app_log = log_record(trace_id, span_id, "", "user logged in")
    response = post(api, logs_request(app_log), encoding="json")
    assert response.status_code == 200, response.text
    partial = partial_success(response)
    assert partial.get("rejected_log_records", 0) == 0
    assert "not GenAI events" in partial["error_message"]


@pytest.mark.parametrize(
    ("body", "headers", "status", "words"),
    [
        (b"\xff\xfe not protobuf", {"Content-Type": PROTOBUF}, 400, "invalid protobuf body"),
        (b"{not json", {"Content-Type": JSON}, 400, "JSON"),
        (b"abc", {"Content-Type": "text/plain"}, 415, "content-type"),
        (b"not gzip", {"Content-Type": PROTOBUF, "Content-Encoding": "gzip"}, 400, "gzip"),
        (gzip.compress(b"x"), {"Content-Type": PROTOBUF, "Content-Encoding": "br"}, 415, "encoding"),
    ],
    ids=["protobuf", "json", "media-type", "gzip", "encoding"],
)
def test_malformed_bodies_get_a_clear_4xx(
    api: httpx.Client, body: bytes, headers: dict[str, str], status: int, words: str
) -> None:
    response = api.post("/v1/logs", content=body, headers=headers)
    assert response.status_code == status, response.text
    assert words.lower() in response.text.lower()


def test_every_record_invalid_is_400(api: httpx.Client) -> None:
    orphan = log_record("", "", sc.GEN_AI_CHOICE_EVENT, {"message": {"content": "lost"}})
    response = post(api, logs_request(orphan), encoding="json")
    assert response.status_code == 400
    assert "every log record was invalid" in response.json()["message"]


def test_a_key_is_required(collector: CollectorProcess) -> None:
    trace_id, span_id = new_ids()
    response = httpx.post(
        collector.url + "/v1/logs",
        content=logs_request(*chat_records(trace_id, span_id, "q", "a")).SerializeToString(),
        headers={"Content-Type": PROTOBUF},
    )
    assert response.status_code == 401
