"""SIGKILL the collector again and again while senders export: every acknowledged span survives,
and each request's spans are all visible or none are.

Each request is one trace of SPANS_PER_REQUEST spans with its own trace id, so "partial" means a
trace with fewer spans than were sent. Senders retry what was not acknowledged, as an OTLP
exporter does, against the same port where the collector comes back on the same data directory.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.ingest.otlp_bodies import PROTOBUF, llm_span, traces_request
from tests.support import CollectorProcess

SENDERS = 4
SPANS_PER_REQUEST = 5
KILLS = 4
PROJECT = "durability-kill"
# Retry-After is honoured, but capped: the test has a time budget, an exporter has patience.
MAX_RETRY_WAIT_S = 0.5


@dataclass
class Ledger:
    """What the senders sent and what the collector acknowledged, shared by the sender threads."""

    sent: dict[str, frozenset[str]] = field(default_factory=dict)  # trace id -> its span ids
    acknowledged: set[str] = field(default_factory=set)  # trace ids answered 200
    unexpected: list[str] = field(default_factory=list)  # any answer but 200, 429 or 503
    refused: int = 0  # 429/503 answers and broken connections, each retried
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acked_count(self) -> int:
        with self.lock:
            return len(self.acknowledged)


def port_outside_ephemeral_range(rng: random.Random) -> int:
    """A free port the kernel never hands out as a source port: while the collector is down, no
    connection (the senders' own retries included, which could even connect to themselves) takes
    the port it must bind again."""
    ranges = Path("/proc/sys/net/ipv4/ip_local_port_range")
    low = int(ranges.read_text().split()[0]) if ranges.exists() else 32768
    for _ in range(100):
        port = rng.randrange(min(20_000, low - 1000), low)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")


def one_request() -> tuple[str, frozenset[str], bytes]:
    trace_id = os.urandom(16).hex()
    span_ids = [os.urandom(8).hex() for _ in range(SPANS_PER_REQUEST)]
    body = traces_request(*(llm_span(trace_id, span_id) for span_id in span_ids)).SerializeToString()
    return trace_id, frozenset(span_ids), body


def sender(url: str, key: str, ledger: Ledger, stop: threading.Event) -> None:
    """Export one request after another; retry each until it is acknowledged or the test stops
    (or, half the time, give it up when the connection broke while it was in flight)."""
    rng = random.Random()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": PROTOBUF}
    with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
        while not stop.is_set():
            trace_id, span_ids, body = one_request()
            with ledger.lock:
                ledger.sent[trace_id] = span_ids
            while not stop.is_set():
                try:
                    response = client.post("/v1/traces", content=body)
                except httpx.TransportError as exc:  # the collector died under us, or is not back yet
                    with ledger.lock:
                        ledger.refused += 1
                    if not isinstance(exc, httpx.ConnectError) and rng.random() < 0.5:
                        # Give up on it, as an exporter out of retries would: what the kill
                        # left of this request stays as it is, to be checked whole or absent.
                        break
                    time.sleep(0.05)
                    continue
                if response.status_code == 200:
                    with ledger.lock:
                        ledger.acknowledged.add(trace_id)
                    break
                if response.status_code in (429, 503):
                    with ledger.lock:
                        ledger.refused += 1
                    wait = float(response.headers.get("retry-after", "1"))
                    time.sleep(min(wait, MAX_RETRY_WAIT_S))
                    continue
                with ledger.lock:
                    ledger.unexpected.append(f"{response.status_code}: {response.text[:200]}")
                break


def stored_traces(client: httpx.Client) -> dict[str, frozenset[str]]:
    """Every trace of the project with the span ids it holds now."""
    trace_ids: list[str] = []
    while True:
        page = client.get("/api/traces", params={"limit": 1000, "offset": len(trace_ids)})
        page.raise_for_status()
        found = [trace["trace_id"] for trace in page.json()["traces"]]
        trace_ids.extend(found)
        if len(found) < 1000:
            break
    stored = {}
    for trace_id in trace_ids:
        detail = client.get(f"/api/traces/{trace_id}")
        detail.raise_for_status()
        spans = detail.json()["spans"]
        span_ids = [span["span_id"] for span in spans]
        assert len(span_ids) == len(set(span_ids)), f"trace {trace_id} shows a span twice"
        stored[trace_id] = frozenset(span_ids)
    return stored


def wait_for_acks(ledger: Ledger, more_than: int, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while ledger.acked_count() <= more_than:
        assert time.monotonic() < deadline, "no request was acknowledged after the restart"
        time.sleep(0.02)


@pytest.mark.timeout(180)
def test_sigkill_during_ingest_loses_no_acknowledged_span_and_shows_no_partial_request(
    tmp_path: Path,
) -> None:
    rng = random.Random()
    collector = CollectorProcess(tmp_path / "data", port=port_outside_ephemeral_range(rng)).start()
    ledger = Ledger()
    stop = threading.Event()
    try:
        key = collector.create_key(PROJECT)["key"]
        threads = [
            threading.Thread(target=sender, args=(collector.url, key, ledger, stop), daemon=True)
            for _ in range(SENDERS)
        ]
        for thread in threads:
            thread.start()
        for _ in range(KILLS):
            # Kill while requests are being committed: after some acknowledgements since the last
            # start, at a random moment.
            wait_for_acks(ledger, ledger.acked_count() + 20)
            time.sleep(rng.uniform(0.0, 0.8))
            collector.stop(signal.SIGKILL)
            collector.start()
        wait_for_acks(ledger, ledger.acked_count() + 20)
        stop.set()
        for thread in threads:
            thread.join(30)

        with collector.client(key) as client:
            stored = stored_traces(client)
    finally:
        stop.set()
        collector.stop()

    assert ledger.unexpected == []
    lost = ledger.acknowledged - stored.keys()
    assert not lost, f"{len(lost)} acknowledged requests are missing after SIGKILL"
    assert stored.keys() <= ledger.sent.keys()
    partial = {trace_id for trace_id, span_ids in stored.items() if span_ids != ledger.sent[trace_id]}
    assert not partial, f"{len(partial)} requests are partly visible"
    # The loop did what it means to: many requests acknowledged, some cut off by the kills.
    assert len(ledger.acknowledged) >= (KILLS + 1) * 20
    assert ledger.refused > 0
    assert len(ledger.sent) > len(ledger.acknowledged)  # some requests were cut off and given up
