"""While the store fails or the writer is behind, OTLP ingest answers 503 or 429 with Retry-After,
never 500, and the rows waiting for a commit stay under `max_pending_rows`.

The app runs in process over a store stand-in (chDB opens one directory per process, and the
stand-in can fail or stall on demand); the caller's project comes from a dependency override.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
from fastapi.testclient import TestClient

from tests.ingest.otlp_bodies import PROTOBUF, llm_span, traces_request
from tokentrail import semconv as sc
from tokentrail_collector.app import create_app
from tokentrail_collector.deps import Services, current_project
from tokentrail_collector.settings import Settings
from tokentrail_collector.storage import StoreUnavailable

PROJECT = "durability-pressure"


class StandInStore:
    """A store whose span inserts can fail, raise something unexpected, or stall until released;
    every committed span id is recorded. Reads fail: the store is only there to be written."""

    embedded = True
    cluster = None

    def __init__(self, *, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.failure: Exception | None = None
        self.release = threading.Event()
        self.release.set()
        self.committed: list[str] = []
        self._lock = threading.Lock()

    def migrate(self) -> list[int]:
        return []

    def insert_spans(self, rows: Sequence[Mapping[str, object]]) -> None:
        self.release.wait()
        time.sleep(self.delay_s)
        if self.failure is not None:
            raise self.failure
        with self._lock:
            self.committed.extend(str(row[sc.SPAN_ID]) for row in rows)

    def query(self, statement: str, parameters: Mapping[str, object] | None = None) -> object:
        raise StoreUnavailable("the stand-in store answers no reads")

    def ping(self) -> bool:
        return False


@contextmanager
def app_client(store: StandInStore, **settings: int) -> Iterator[tuple[TestClient, Services]]:
    app = create_app(Settings(admin_token="tta_unused", **settings), store=store)  # type: ignore[arg-type]
    app.dependency_overrides[current_project] = lambda: PROJECT
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, app.state.services


def export(client: TestClient, spans: int) -> tuple[httpx.Response, list[str]]:
    trace_id = os.urandom(16).hex()
    span_ids = [os.urandom(8).hex() for _ in range(spans)]
    body = traces_request(*(llm_span(trace_id, span_id) for span_id in span_ids)).SerializeToString()
    response = client.post("/v1/traces", content=body, headers={"Content-Type": PROTOBUF})
    return response, span_ids


def retry_after(response: httpx.Response) -> int:
    value = response.headers.get("retry-after")
    assert value is not None and value.isdigit(), f"{response.status_code} without Retry-After seconds"
    return int(value)


def test_store_down_answers_503_with_retry_after_and_recovers() -> None:
    store = StandInStore()
    with app_client(store) as (client, services):
        store.failure = StoreUnavailable("connection refused")
        refused, _ = export(client, 3)
        assert refused.status_code == 503
        assert retry_after(refused) >= 1

        # Whatever the store raises, the sender is told to come back, not that the server broke.
        store.failure = RuntimeError("unexpected driver failure")
        refused_again, _ = export(client, 3)
        assert refused_again.status_code == 503
        assert retry_after(refused_again) >= 1
        assert store.committed == []

        store.failure = None  # the store is back
        accepted, span_ids = export(client, 3)
        assert accepted.status_code == 200
        assert store.committed == span_ids
        stats = services.writer.stats()
        assert stats.failed_batches == 2
        assert stats.pending_rows == 0


def test_reads_while_the_store_is_down_answer_503() -> None:
    with app_client(StandInStore()) as (client, _):
        response = client.get("/api/traces")
        assert response.status_code == 503
        assert retry_after(response) >= 1


def test_writer_behind_answers_429_with_retry_after_and_holds_no_more_than_the_cap() -> None:
    store = StandInStore()
    store.release.clear()  # the first commit stalls: the writer falls behind
    with app_client(store, max_pending_rows=10, max_linger_ms=0) as (client, services):
        with ThreadPoolExecutor(1) as pool:
            held = pool.submit(export, client, 6)
            deadline = time.monotonic() + 10
            while services.writer.stats().pending_rows < 6:
                assert time.monotonic() < deadline, "the first request never reached the writer"
                time.sleep(0.01)

            answers = [export(client, 5)[0] for _ in range(20)]
            assert [answer.status_code for answer in answers] == [429] * 20
            assert all(retry_after(answer) >= 1 for answer in answers)
            stats = services.writer.stats()
            assert stats.pending_rows == 6  # refused rows are not kept
            assert stats.rejected_requests == 20

            store.release.set()
            response, span_ids = held.result(10)
        assert response.status_code == 200
        assert store.committed == span_ids
        assert services.writer.stats().pending_rows == 0


def test_a_flood_against_a_slow_store_gets_200_or_429_and_pending_rows_stay_capped() -> None:
    cap = 40
    store = StandInStore(delay_s=0.05)
    with app_client(store, max_pending_rows=cap, max_linger_ms=5) as (client, services):
        peak = 0
        done = threading.Event()

        def watch() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, services.writer.stats().pending_rows)
                time.sleep(0.001)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(lambda _: export(client, 10), range(120)))
        done.set()
        watcher.join()

    codes = [response.status_code for response, _ in results]
    assert set(codes) <= {200, 429}, sorted(set(codes))
    assert 200 in codes and 429 in codes
    assert all(retry_after(response) >= 1 for response, _ in results if response.status_code == 429)
    assert peak <= cap
    acknowledged = {span for response, spans in results if response.status_code == 200 for span in spans}
    assert acknowledged == set(store.committed)  # acknowledged = committed, and nothing refused was kept
