"""End to end: the real SDK with a fake NVML sends model-call spans with GPU figures and the
periodic GPU gauges to a real collector process; `/api/gpu` and `/api/stats` show them."""

from __future__ import annotations

import time
from typing import Any

import pytest

import tokentrail
from tests.sdk.conftest import clean_tokentrail, internal_errors  # noqa: F401 - autouse fixtures
from tests.support import CollectorProcess
from tokentrail import semconv as sc
from tokentrail.gpu import GpuOptions
from tokentrail.gpu.testing import GIB, FakeDevice, FakeNvml

WATTS = 300.0


def test_sdk_spans_and_gauges_reach_the_gpu_and_stats_api(collector: CollectorProcess) -> None:
    key = collector.create_key("sdk-gpu")["key"]
    nvml = FakeNvml(
        [
            FakeDevice(
                name="Fake H100",
                uuid="GPU-e2e",
                utilization=60.0,
                memory_used_bytes=4 * GIB,
                power_watts=WATTS,
                energy_joules=lambda t: 5000.0 + WATTS * t,  # the counter of a device drawing 300 W
            )
        ]
    )
    started = time.time()
    tokentrail.init(
        endpoint=collector.url,
        api_key=key,
        service_name="gpu-e2e",
        schedule_delay_ms=50,
        gpu=GpuOptions(nvml=nvml, interval_s=0.02, devices="all", metrics_interval_s=0.2),
    )

    @tokentrail.observe(kind="llm")
    def generate(prompt: str) -> str:
        time.sleep(0.3)
        tokentrail.update_current_span(model="local-llama", input_tokens=10, output_tokens=60)
        return prompt.upper()

    generate("hello")
    time.sleep(0.5)  # a few gauge exports
    tokentrail.shutdown(timeout_s=10)  # flushes the spans and exports the gauges one last time

    with collector.client(key) as api:
        response = api.get("/api/gpu", params={"bucket_seconds": 3600, "start": started - 1})
        assert response.status_code == 200, response.text
        (device,) = response.json()["devices"]
        assert (device["service_name"], device["device_index"], device["device_uuid"], device["device_name"]) == (
            "gpu-e2e", 0, "GPU-e2e", "Fake H100"
        )  # fmt: skip
        points: list[dict[str, Any]] = device["points"]
        assert {point["utilization_max_pct"] for point in points} == {60.0}
        assert {point["memory_used_max_bytes"] for point in points} == {4 * GIB}
        assert {point["power_avg_watts"] for point in points} == {WATTS}
        energy = sum(point["energy_joules"] or 0.0 for point in points)
        assert energy > 0  # the counter moved between gauge exports

        stats = api.get("/api/stats", params={"group_by": "model"}).json()["rows"]
        (row,) = [row for row in stats if row["group"] == "local-llama"]
        span_energy = row["gpu_energy_joules"]
        # 300 W over a span of at least 0.3 s, give or take a sampling interval at each end.
        assert span_energy == pytest.approx(WATTS * 0.3, rel=0.5)
        assert row[sc.OUTPUT_TOKENS] == 60
        assert row["energy_per_1k_output_tokens"] == pytest.approx(span_energy / 60 * 1000)
