"""The pure pieces behind /v1/metrics and the writer's tables: metric points to rows, and one
group commit that fills several tables, each insert answering only its own requests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping, Sequence

import pytest
from opentelemetry.proto.metrics.v1.metrics_pb2 import DataPointFlags, Metric, NumberDataPoint

from tokentrail import semconv as sc
from tokentrail_collector.normalise.metrics import normalise_metrics
from tokentrail_collector.storage import GroupCommitWriter, StoreUnavailable, sql

from .otlp_bodies import START_NS, gauge, key_values, metrics_request

H100 = (0, "GPU-aaa", "Fake H100")


def test_gpu_gauge_points_become_rows_with_their_device() -> None:
    batch = normalise_metrics(
        metrics_request(gauge(sc.METRIC_GPU_POWER, "W", [(H100, START_NS, 310.5)])), project_id="p"
    )
    assert (batch.rejected, batch.skipped, batch.errors) == (0, 0, [])
    (row,) = batch.rows
    assert tuple(row) == sc.GPU_METRIC_COLUMNS
    assert row == {
        sc.PROJECT_ID: "p", sc.SERVICE: "gpu-app", sc.METRIC_HOST: "node-1",
        sc.METRIC_DEVICE_INDEX: 0, sc.METRIC_DEVICE_UUID: "GPU-aaa", sc.METRIC_DEVICE_NAME: "Fake H100",
        sc.METRIC_NAME: sc.METRIC_GPU_POWER, sc.METRIC_UNIT: "W",
        sc.METRIC_TIME_UNIX_NANO: START_NS, sc.METRIC_VALUE: 310.5, sc.ATTRIBUTES: {},
    }  # fmt: skip


def test_other_sum_and_gauge_points_are_kept_generically() -> None:
    counter = Metric(name="app.requests", unit="{request}")
    counter.sum.data_points.append(
        NumberDataPoint(
            time_unix_nano=START_NS, as_int=7, attributes=key_values({"route": "/a", "code": 200})
        )
    )
    batch = normalise_metrics(metrics_request(counter, service="", host=None), project_id="p")
    (row,) = batch.rows
    assert row[sc.SERVICE] == sc.UNKNOWN_SERVICE and row[sc.METRIC_HOST] == ""
    assert (row[sc.METRIC_DEVICE_INDEX], row[sc.METRIC_DEVICE_UUID]) == (sc.NO_DEVICE_INDEX, "")
    assert row[sc.METRIC_VALUE] == 7.0
    # In key order, so the same attributes always make the same identity.
    assert list(row[sc.ATTRIBUTES].items()) == [("code", "200"), ("route", "/a")]  # type: ignore[attr-defined]


def test_points_without_a_recorded_value_are_skipped_not_rejected() -> None:
    metric = gauge(sc.METRIC_GPU_UTILIZATION, "%", [(H100, START_NS, 1.0)])
    metric.gauge.data_points[0].flags = DataPointFlags.DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK
    batch = normalise_metrics(metrics_request(metric), project_id="p")
    assert (batch.rows, batch.skipped, batch.rejected) == ([], 1, 0)


class RecordingStore:
    """A store stand-in: records each insert; inserts into `failing` tables fail."""

    def __init__(self, failing: frozenset[str] = frozenset()) -> None:
        self.failing = failing
        self.inserts: list[tuple[str, int]] = []
        self.lock = threading.Lock()

    def insert_spans(self, rows: Sequence[Mapping[str, object]]) -> None:
        self.insert_table(sql.SPANS_TABLE, rows)

    def insert_table(self, table: str, rows: Sequence[Mapping[str, object]]) -> None:
        if table in self.failing:
            raise StoreUnavailable(f"{table} is down")
        with self.lock:
            self.inserts.append((table, len(rows)))


async def submit_together(writer: GroupCommitWriter) -> list[BaseException | None]:
    results = await asyncio.gather(
        writer.submit([{}] * 3),
        writer.submit([{}] * 2, table=sql.SPAN_CONTENT_TABLE),
        writer.submit([{}] * 4),
        writer.submit([{}], table=sql.GPU_METRICS_TABLE),
        return_exceptions=True,
    )
    return list(results)


async def test_each_insert_fills_one_table_with_the_rows_of_its_requests() -> None:
    store = RecordingStore()
    writer = GroupCommitWriter(store, max_linger_ms=50)  # type: ignore[arg-type]
    writer.start()
    try:
        assert await submit_together(writer) == [None] * 4
    finally:
        writer.stop(5)
    committed: dict[str, int] = {}
    for table, count in store.inserts:
        committed[table] = committed.get(table, 0) + count
    assert committed == {sql.SPANS_TABLE: 7, sql.SPAN_CONTENT_TABLE: 2, sql.GPU_METRICS_TABLE: 1}
    assert writer.stats().rows_committed == 10


async def test_a_failed_insert_fails_only_the_requests_for_its_table() -> None:
    store = RecordingStore(failing=frozenset({sql.SPAN_CONTENT_TABLE}))
    writer = GroupCommitWriter(store, max_linger_ms=50)  # type: ignore[arg-type]
    writer.start()
    try:
        spans, content, more_spans, metrics = await submit_together(writer)
    finally:
        writer.stop(5)
    assert (spans, more_spans, metrics) == (None, None, None)
    assert isinstance(content, StoreUnavailable)
    assert writer.stats().failed_rows == 2


async def test_an_unknown_table_is_refused_at_once() -> None:
    writer = GroupCommitWriter(RecordingStore(), max_linger_ms=5)  # type: ignore[arg-type]
    writer.start()
    try:
        with pytest.raises(ValueError, match="fills only"):
            await writer.submit([{}], table="api_keys")
    finally:
        writer.stop(5)
