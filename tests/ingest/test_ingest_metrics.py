"""POST /v1/metrics against a real collector: GPU gauges stored once per point, read back by
`GET /api/gpu` as bucketed series per device; GPU energy per 1000 output tokens in `/api/stats`."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.proto.metrics.v1.metrics_pb2 import HistogramDataPoint, Metric

from tests.support import CollectorProcess
from tokentrail import semconv as sc

from .otlp_bodies import (
    JSON,
    START_NS,
    Device,
    committed,
    gauge,
    llm_span,
    metrics_request,
    partial_success,
    post,
    traces_request,
)

S = 1_000_000_000
H100: Device = (0, "GPU-aaa", "Fake H100")
T4: Device = (1, "GPU-bbb", "Fake T4")
TIMES = [START_NS + seconds * S for seconds in (0, 20, 40, 60, 80)]  # START_NS is on a minute


@pytest.fixture
def api(collector: CollectorProcess) -> Iterator[httpx.Client]:
    key = collector.create_key("gpu-" + uuid.uuid4().hex[:10])["key"]
    with collector.client(key) as client:
        yield client


def two_gpus(energy: list[float] | None = None) -> Any:
    """Five scrapes of an H100 with every reading and a T4 with neither power nor energy counter."""
    energy = energy or [1000.0, 1100.0, 1300.0, 1600.0, 2000.0]
    return metrics_request(
        gauge(
            sc.METRIC_GPU_UTILIZATION,
            "%",
            [(H100, t, v) for t, v in zip(TIMES, [10.0, 20.0, 30.0, 40.0, 50.0], strict=True)]
            + [(T4, t, 5.0) for t in TIMES],
        ),
        gauge(
            sc.METRIC_GPU_MEMORY_USED,
            "By",
            [
                (H100, t, v)
                for t, v in zip(TIMES, [10**9, 3 * 10**9, 2 * 10**9, 2 * 10**9, 10**9], strict=True)
            ]
            + [(T4, t, 2**30) for t in TIMES],
        ),
        gauge(sc.METRIC_GPU_POWER, "W", [(H100, t, 100.0 * (i + 1)) for i, t in enumerate(TIMES)]),
        gauge(sc.METRIC_GPU_ENERGY, "J", [(H100, t, v) for t, v in zip(TIMES, energy, strict=True)]),
    )


def series(api: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    response = api.get("/api/gpu", params={"bucket_seconds": 60, **params})
    assert response.status_code == 200, response.text
    return response.json()["devices"]


def figures(device: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (
            point["bucket_unix_nano"],
            point["utilization_avg_pct"],
            point["utilization_max_pct"],
            point["memory_used_max_bytes"],
            point["power_avg_watts"],
            point["energy_joules"],
        )
        for point in device["points"]
    ]


EXPECTED_H100 = [
    (TIMES[0], 20.0, 30.0, 3 * 10**9, 200.0, 300.0),  # the first scrape has no step before it
    (TIMES[3], 45.0, 50.0, 2 * 10**9, 450.0, 700.0),
]


def test_gauges_become_bucketed_series_per_device(api: httpx.Client) -> None:
    committed(api, two_gpus())
    h100, t4 = series(api)
    assert {key: h100[key] for key in h100 if key != "points"} == {
        "service_name": "gpu-app", "host": "node-1", "device_index": 0,
        "device_uuid": "GPU-aaa", "device_name": "Fake H100",
    }  # fmt: skip
    assert figures(h100) == EXPECTED_H100
    assert h100["points"][0]["bucket"].startswith("2026-01-01T00:00:00")
    # No power reading and no energy counter: unknown, not 0.
    assert figures(t4) == [(TIMES[0], 5.0, 5.0, 2**30, None, None), (TIMES[3], 5.0, 5.0, 2**30, None, None)]


def test_a_retried_delivery_counts_once(api: httpx.Client) -> None:
    committed(api, two_gpus())
    committed(api, two_gpus(), compress=True)
    committed(api, two_gpus(), encoding="json")
    h100, _t4 = series(api)
    assert figures(h100) == EXPECTED_H100


@pytest.mark.parametrize(("encoding", "compress"), [("json", False), ("json", True), ("protobuf", True)])
def test_every_encoding(api: httpx.Client, encoding: str, compress: bool) -> None:
    response = post(api, two_gpus(), encoding=encoding, compress=compress)
    assert response.status_code == 200, response.text
    assert partial_success(response) == {}
    assert figures(series(api, device="GPU-aaa")[0]) == EXPECTED_H100


def test_a_hand_written_otlp_json_body(api: httpx.Client) -> None:
    document = {
        "resourceMetrics": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "json-app"}}]},
            "scopeMetrics": [{"metrics": [{
                "name": sc.METRIC_GPU_UTILIZATION, "unit": "%",
                "gauge": {"dataPoints": [{
                    "timeUnixNano": str(TIMES[0]), "asDouble": 77.5,
                    "attributes": [{"key": "gpu.index", "value": {"intValue": "3"}},
                                   {"key": "gpu.uuid", "value": {"stringValue": "GPU-json"}}],
                }]},
            }]}],
        }]
    }  # fmt: skip
    response = api.post("/v1/metrics", content=json.dumps(document), headers={"Content-Type": JSON})
    assert response.status_code == 200, response.text
    (device,) = series(api)
    assert (device["service_name"], device["host"], device["device_index"], device["device_name"]) == (
        "json-app", "", 3, ""
    )  # fmt: skip
    assert figures(device) == [(TIMES[0], 77.5, 77.5, None, None, None)]


def test_filters_window_service_and_device(api: httpx.Client) -> None:
    committed(api, two_gpus())
    committed(
        api, metrics_request(gauge(sc.METRIC_GPU_UTILIZATION, "%", [(H100, TIMES[0], 99.0)]), service="other")
    )
    assert len(series(api)) == 3
    assert [d["service_name"] for d in series(api, service="other")] == ["other"]
    assert [d["device_uuid"] for d in series(api, service="gpu-app", device="1")] == ["GPU-bbb"]
    (h100,) = series(api, service="gpu-app", device="GPU-aaa", start=TIMES[3] / S)
    # The step into the window's first scrape counts: the counter is read from before the window.
    assert figures(h100) == [EXPECTED_H100[1]]
    assert series(api, end=TIMES[0] / S) == []
    assert api.get("/api/gpu", params={"start": TIMES[3] / S, "end": TIMES[0] / S}).status_code == 400
    assert api.get("/api/gpu", params={"bucket_seconds": 0}).status_code == 422


def test_a_counter_that_goes_back_makes_that_step_unknown(api: httpx.Client) -> None:
    committed(api, two_gpus(energy=[1000.0, 1100.0, 1300.0, 50.0, 150.0]))  # the driver reloaded
    h100, _t4 = series(api)
    assert [point["energy_joules"] for point in h100["points"]] == [300.0, 100.0]


def test_other_gauges_are_kept_but_are_not_gpu_series(api: httpx.Client) -> None:
    response = post(api, metrics_request(gauge("app.queue.depth", "{item}", [(None, TIMES[0], 7)])))
    assert response.status_code == 200, response.text
    assert partial_success(response) == {}
    assert series(api) == []


def histogram(name: str) -> Metric:
    metric = Metric(name=name)
    metric.histogram.data_points.append(HistogramDataPoint(time_unix_nano=TIMES[0], count=1, sum=2.0))
    return metric


def test_histograms_are_rejected_and_counted(api: httpx.Client) -> None:
    mixed = two_gpus()
    mixed.resource_metrics[0].scope_metrics[0].metrics.append(histogram("http.server.duration"))
    response = post(api, mixed, encoding="json")
    assert response.status_code == 200, response.text
    partial = partial_success(response)
    assert partial["rejected_data_points"] == 1
    assert "histogram points are not stored" in partial["error_message"]
    assert figures(series(api)[0]) == EXPECTED_H100

    only = post(api, metrics_request(histogram("http.server.duration")))
    assert only.status_code == 400
    assert b"every data point was invalid" in only.content


def test_points_without_a_time_or_value_are_rejected(api: httpx.Client) -> None:
    request = metrics_request(
        gauge(sc.METRIC_GPU_UTILIZATION, "%", [(H100, 0, 50.0), (H100, TIMES[0], float("nan"))])
    )
    response = post(api, request, encoding="json")
    assert response.status_code == 400
    assert "outside the years" in response.json()["message"]
    assert "finite value" in response.json()["message"]


def test_malformed_bodies_get_a_clear_4xx(api: httpx.Client) -> None:
    bad = api.post("/v1/metrics", content=b"\x0a\xff\xff", headers={"Content-Type": "application/x-protobuf"})
    assert bad.status_code == 400
    assert b"ExportMetricsServiceRequest" in bad.content
    assert api.post("/v1/metrics", content=b"[1]", headers={"Content-Type": JSON}).status_code == 400
    assert api.post("/v1/metrics", content=b"x", headers={"Content-Type": "text/csv"}).status_code == 415


def test_stats_give_gpu_energy_per_1000_output_tokens(api: httpx.Client) -> None:
    trace_id = uuid.uuid4().hex

    def span(model: str, output_tokens: int, energy: float | None, offset: int) -> Any:
        attributes: dict[str, Any] = {
            sc.GEN_AI_REQUEST_MODEL: model,
            sc.GEN_AI_USAGE_OUTPUT_TOKENS: output_tokens,
        }
        if energy is not None:
            attributes[sc.TT_GPU_ENERGY_JOULES] = energy
        return llm_span(trace_id, os.urandom(8).hex(), start_ns=START_NS + offset, attributes=attributes)

    committed(
        api,
        traces_request(
            span("local-llama", 40, 30.0, 1),
            span("local-llama", 40, 10.0, 2),
            span("local-llama", 100, None, 3),  # no GPU figures: neither its energy nor its tokens count
            span("gpt-4o", 500, None, 4),
        ),
    )
    rows = {row["group"]: row for row in api.get("/api/stats", params={"group_by": "model"}).json()["rows"]}
    assert rows["local-llama"]["energy_per_1k_output_tokens"] == pytest.approx(40.0 / 80 * 1000)
    assert rows["local-llama"]["gpu_energy_joules"] == pytest.approx(40.0)
    assert rows["gpt-4o"]["energy_per_1k_output_tokens"] is None
    assert rows["gpt-4o"]["gpu_energy_joules"] is None
    assert (rows["local-llama"]["span_count"], rows["local-llama"]["gpu_span_count"]) == (3, 2)
    assert rows["gpt-4o"]["gpu_span_count"] == 0
