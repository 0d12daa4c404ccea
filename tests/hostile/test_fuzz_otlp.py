"""Broken and hostile OTLP bodies posted to a real collector process: never a 5xx, never a crash,
and the collector healthy afterwards. Bounded: a fixed number of examples per test, no deadline.

Mutations start from valid encodings (protobuf, OTLP/JSON, gzip of either) and flip, cut or insert
bytes; the JSON ones also put random JSON values (wrong types) at random places of a valid document.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from tests.hostile.spans import request_of, valid_span
from tests.otlp.otlp_spans import llm_request
from tests.support import CollectorProcess
from tokentrail_collector.otlp import encode_trace_request_json

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
ENDPOINTS = ("/v1/traces", "/v1/logs", "/v1/metrics")
# What a broken body may be answered with; anything else (a 5xx above all) is a failure.
CLIENT_ERRORS = {200, 400, 413, 415}
FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _seed_requests() -> list[ExportTraceServiceRequest]:
    rich = valid_span(7, attributes={"gen_ai.request.model": "m", "__proto__": "x"})
    rich.events.add(time_unix_nano=rich.start_time_unix_nano, name="gen_ai.user.message").attributes.add(
        key="content", value=AnyValue(string_value="hello")
    )
    return [llm_request(2), request_of(rich, valid_span(8), resource={"service.name": "fuzz"})]


SEEDS = _seed_requests()
PROTOBUF_SEEDS = [request.SerializeToString() for request in SEEDS]
JSON_SEEDS = [json.loads(encode_trace_request_json(request)) for request in SEEDS]


@pytest.fixture(scope="module")
def client(collector: CollectorProcess) -> Iterator[httpx.Client]:
    with collector.client(collector.create_key("hostile")["key"]) as http:
        yield http


@pytest.fixture(scope="module", autouse=True)
def still_healthy_after(collector: CollectorProcess) -> Iterator[None]:
    yield
    assert httpx.get(f"{collector.url}/healthz", timeout=30).status_code == 200
    assert collector.process is not None and collector.process.poll() is None, collector.log()


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """`seed` with a few bytes flipped, cut off, inserted or deleted."""
    body = bytearray(seed)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        at = draw(st.integers(0, max(len(body) - 1, 0)))
        if op == "flip" and body:
            body[at] ^= draw(st.integers(1, 255))
        elif op == "cut":
            del body[at:]
        elif op == "insert":
            body[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif body:
            del body[at : at + draw(st.integers(1, 16))]
    return bytes(body)


def encoded(draw: st.DrawFn, body: bytes) -> tuple[bytes, dict[str, str]]:
    """The body as is, gzipped, or gzipped and then broken."""
    how = draw(st.sampled_from(["plain", "gzip", "broken gzip"]))
    if how == "plain":
        return body, {}
    compressed = gzip.compress(body)
    if how == "broken gzip":
        compressed = draw(mutated(compressed))
    return compressed, {"content-encoding": "gzip"}


def check(response: httpx.Response) -> None:
    assert response.status_code in CLIENT_ERRORS, (response.status_code, response.text[:500])


@FUZZ
@given(data=st.data())
def test_mutated_protobuf_bodies_are_answered_without_a_5xx(
    client: httpx.Client, data: st.DataObject
) -> None:
    body = data.draw(mutated(data.draw(st.sampled_from(PROTOBUF_SEEDS))))
    content, headers = encoded(data.draw, body)
    endpoint = data.draw(st.sampled_from(ENDPOINTS))
    check(client.post(endpoint, content=content, headers={"content-type": PROTOBUF, **headers}))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def _planted(draw: st.DrawFn, document: Any) -> Any:
    """`document` with one value somewhere (or a key's value at some level) replaced by a random one."""
    if isinstance(document, dict) and document and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(document)))
        return {**document, key: _planted(draw, document[key])}
    if isinstance(document, list) and document and draw(st.booleans()):
        at = draw(st.integers(0, len(document) - 1))
        return [*document[:at], _planted(draw, document[at]), *document[at + 1 :]]
    return draw(json_values)


@FUZZ
@given(data=st.data())
def test_json_with_wrong_types_anywhere_is_answered_without_a_5xx(
    client: httpx.Client, data: st.DataObject
) -> None:
    document = data.draw(st.sampled_from(JSON_SEEDS))
    for _ in range(data.draw(st.integers(1, 3))):
        document = _planted(data.draw, document)
    body = json.dumps(document, allow_nan=True).encode()
    content, headers = encoded(data.draw, body)
    endpoint = data.draw(st.sampled_from(ENDPOINTS))
    check(client.post(endpoint, content=content, headers={"content-type": JSON, **headers}))


@FUZZ
@given(data=st.data())
def test_mutated_json_text_is_answered_without_a_5xx(client: httpx.Client, data: st.DataObject) -> None:
    seed = json.dumps(data.draw(st.sampled_from(JSON_SEEDS))).encode()
    content, headers = encoded(data.draw, data.draw(mutated(seed)))
    endpoint = data.draw(st.sampled_from(ENDPOINTS))
    check(client.post(endpoint, content=content, headers={"content-type": JSON, **headers}))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.binary(max_size=512),
    content_type=st.sampled_from([PROTOBUF, JSON, "text/plain", "", "application/json; charset=latin-1"]),
)
def test_random_bytes_are_answered_without_a_5xx(
    client: httpx.Client, body: bytes, content_type: str
) -> None:
    check(client.post("/v1/traces", content=body, headers={"content-type": content_type}))
