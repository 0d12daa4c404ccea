"""The collector's own retention passes: the first soon after start-up, then every interval."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.ingest.otlp_bodies import committed, llm_span, traces_request
from tests.security.conftest import parse_prometheus, sample
from tests.support import CollectorProcess

DAY_NS = 86_400 * 1_000_000_000


def test_the_collector_prunes_on_its_own_schedule(tmp_path: Path) -> None:
    env = {
        "TOKENTRAIL_RETENTION_DAYS": "30",
        "TOKENTRAIL_RETENTION_FIRST_DELAY_S": "3",
        "TOKENTRAIL_RETENTION_INTERVAL_S": "1",
    }
    collector = CollectorProcess(tmp_path / "data", env=env).start()
    try:
        key = collector.create_key("scheduled")["key"]
        now_ns = time.time_ns()
        with collector.client(key) as client:
            committed(client, traces_request(llm_span("a" * 32, "a" * 16, start_ns=now_ns - 45 * DAY_NS)))
            committed(client, traces_request(llm_span("b" * 32, "b" * 16, start_ns=now_ns - DAY_NS)))
            deadline = time.monotonic() + 60
            while client.get(f"/api/traces/{'a' * 32}").status_code == 200:
                assert time.monotonic() < deadline, "no retention pass removed the expired trace"
                time.sleep(0.5)
            assert client.get(f"/api/traces/{'b' * 32}").status_code == 200
        deadline = time.monotonic() + 30
        while True:  # passes go on after the one that removed the trace
            metrics = parse_prometheus(httpx.get(collector.url + "/metrics", timeout=10).text)
            if sample(metrics, "tokentrail_retention_passes_total", outcome="ok") >= 2:
                break
            assert time.monotonic() < deadline, "the retention task stopped after one pass"
            time.sleep(0.5)
        assert sample(metrics, "tokentrail_retention_rows_removed_total", table="spans") == 1
        assert sample(metrics, "tokentrail_retention_passes_total", outcome="failed") == 0
    finally:
        collector.stop()
    assert "Traceback" not in collector.log()  # no pass failed, and shutdown stopped the task cleanly
