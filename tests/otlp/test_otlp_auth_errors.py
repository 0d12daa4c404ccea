"""A refused key on /v1/* is answered like every other OTLP error: a google.rpc.Status in the
request's encoding (OTLP/HTTP), while the query API keeps its JSON `{"detail": ...}`."""

from __future__ import annotations

import json

import httpx
import pytest
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.support import CollectorProcess

UNAUTHENTICATED = 16  # google.rpc.Code


@pytest.mark.parametrize("signal", ["traces", "logs", "metrics"])
@pytest.mark.parametrize(
    "headers",
    [{"Authorization": "Bearer tt_not-a-key"}, {}],
    ids=["wrong-key", "no-key"],
)
def test_protobuf_request_refused_gets_a_protobuf_status(
    collector: CollectorProcess, signal: str, headers: dict[str, str]
) -> None:
    response = httpx.post(
        f"{collector.url}/v1/{signal}",
        content=ExportTraceServiceRequest().SerializeToString(),
        headers={"Content-Type": "application/x-protobuf", **headers},
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/x-protobuf"
    assert response.headers["www-authenticate"] == "Bearer"
    status = Status.FromString(response.content)
    assert status.code == UNAUTHENTICATED
    assert "API key" in status.message


def test_json_request_refused_gets_a_json_status(collector: CollectorProcess) -> None:
    response = httpx.post(
        f"{collector.url}/v1/traces",
        content=b"{}",
        headers={"Content-Type": "application/json", "Authorization": "Bearer tt_not-a-key"},
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    body = json.loads(response.content)
    assert body == {"code": UNAUTHENTICATED, "message": "API key refused: unknown or revoked"}


def test_query_api_refusal_stays_fastapi_json(collector: CollectorProcess) -> None:
    response = httpx.get(f"{collector.url}/api/traces", headers={"Authorization": "Bearer tt_not-a-key"})
    assert response.status_code == 401
    assert response.json() == {"detail": "API key refused: unknown or revoked"}
