"""Outages against a real collector process, with an instrumented app as its own process: a minute
without the collector under steady load loses no span, and spans an app left in the spool when it
ended during an outage are delivered by the next app that starts once the collector is back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TypedDict

import pytest

from tests.support import CollectorProcess
from tokentrail._spool import Spool

APP = Path(__file__).with_name("steady_app.py")
OUTAGE_S = 60
RATE = 50  # spans per second


class AppResult(TypedDict, total=False):
    """What steady_app.py writes: (trace id, span id) of every span it emitted, and its export stats."""

    spans: list[list[str]]
    stats: dict[str, int]
    flushed: bool


def _app_env(collector: CollectorProcess, key: str, spool_dir: Path) -> dict[str, str]:
    return os.environ | {
        "TOKENTRAIL_ENDPOINT": collector.url,
        "TOKENTRAIL_API_KEY": key,
        "TOKENTRAIL_SPOOL_DIR": str(spool_dir),
        "TOKENTRAIL_SERVICE_NAME": "steady",
    }


def _run_app(env: dict[str, str], out: Path, *args: str) -> AppResult:
    done = subprocess.run(
        [sys.executable, str(APP), "--out", str(out), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: AppResult = json.loads(out.read_text())
    return result


def _stored_span_counts(collector: CollectorProcess, key: str) -> dict[str, int]:
    """Every trace the collector holds for the key's project: trace id → its number of spans."""
    counts: dict[str, int] = {}
    with collector.client(key) as client:
        while True:
            response = client.get("/api/traces", params={"limit": 1000, "offset": len(counts)})
            response.raise_for_status()
            page = response.json()
            counts.update({row["trace_id"]: row["span_count"] for row in page["traces"]})
            if not page["traces"] or len(counts) >= page["total"]:
                return counts


def _stored_span_ids(collector: CollectorProcess, key: str, trace_id: str) -> list[str]:
    with collector.client(key) as client:
        response = client.get(f"/api/traces/{trace_id}")
        response.raise_for_status()
        return [span["span_id"] for span in response.json()["spans"]]


def _assert_all_stored(
    collector: CollectorProcess, key: str, spans: list[list[str]], sample_every: int
) -> None:
    stored = _stored_span_counts(collector, key)
    emitted_traces = {trace_id for trace_id, _ in spans}
    missing = emitted_traces - stored.keys()
    assert not missing, f"{len(missing)} of {len(emitted_traces)} emitted traces are not stored"
    assert len(stored) == len(emitted_traces)
    assert all(stored[trace_id] == 1 for trace_id in emitted_traces)  # one span each, counted once
    for trace_id, span_id in spans[::sample_every] + spans[-1:]:
        assert _stored_span_ids(collector, key, trace_id) == [span_id]


@pytest.mark.timeout(300)
def test_a_sixty_second_outage_under_steady_load_loses_no_span(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    collector = CollectorProcess(data_dir).start()
    key = collector.create_key("outage")["key"]
    stop, out = tmp_path / "stop", tmp_path / "app.json"
    # A memory buffer of 1,024 spans against 3,000 emitted during the outage: most go through the spool.
    app = subprocess.Popen(
        [
            sys.executable,
            str(APP),
            "--out",
            str(out),
            "--rate",
            str(RATE),
            "--stop-file",
            str(stop),
            "--max-queue",
            "1024",
            "--await-replayed",
            "0",
        ],
        env=_app_env(collector, key, tmp_path / "spool"),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(5)
        collector.stop(signal.SIGKILL)
        time.sleep(OUTAGE_S)
        collector = CollectorProcess(data_dir, port=collector.port).start()
        time.sleep(5)
        stop.touch()
        _, stderr = app.communicate(timeout=180)
        assert app.returncode == 0, stderr
        result: AppResult = json.loads(out.read_text())
        spans, stats = result["spans"], result["stats"]
        assert len(spans) >= RATE * OUTAGE_S
        assert stats["dropped"] == 0 and stats["rejected_by_collector"] == 0, stats
        assert stats["spooled"] > 0, stats  # the outage outgrew memory
        assert stats["exported"] + stats["replayed"] == stats["enqueued"] == len(spans), stats
        _assert_all_stored(collector, key, spans, sample_every=25)
    finally:
        if app.poll() is None:
            app.kill()
        collector.stop()
    assert Spool(tmp_path / "spool", 1).pending_files() == []


@pytest.mark.timeout(240)
def test_spans_spooled_by_an_app_that_ended_in_an_outage_are_delivered_by_the_next_app(
    tmp_path: Path,
) -> None:
    data_dir, spool_dir = tmp_path / "data", tmp_path / "spool"
    collector = CollectorProcess(data_dir).start()
    key = collector.create_key("restart")["key"]
    collector.stop()
    env = _app_env(collector, key, spool_dir)
    # The first app ends while the collector is down; only its exit hook deals with what it emitted.
    first = _run_app(env, tmp_path / "first.json", "--count", "40", "--rate", "200", "--exit-hook-only")
    assert Spool(spool_dir, 1).pending_files() != []
    collector = CollectorProcess(data_dir, port=collector.port).start()
    try:
        second = _run_app(env, tmp_path / "second.json", "--count", "5", "--await-replayed", "40")
        stats = second["stats"]
        assert (stats["replayed"], stats["exported"], stats["dropped"]) == (40, 5, 0), stats
        assert Spool(spool_dir, 1).pending_files() == []
        _assert_all_stored(collector, key, first["spans"] + second["spans"], sample_every=1)
    finally:
        collector.stop()
