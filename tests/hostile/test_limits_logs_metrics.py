"""The caps of the span path hold on the other two OTLP paths too: GenAI log records and metric
points have their attributes capped, long values cut, hostile keys refused, each counted and said
in the partial success and in /metrics; a request with too many items is refused whole; a gzip
bomb is a 413 on every path."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.metrics.v1.metrics_pb2 import Metric, NumberDataPoint

from tests.ingest.otlp_bodies import (
    PROTOBUF,
    START_NS,
    gauge,
    key_values,
    log_record,
    logs_request,
    metrics_request,
    partial_success,
    post,
)
from tests.security.conftest import parse_prometheus, sample
from tests.support import CollectorProcess
from tokentrail import semconv as sc
from tokentrail_collector.normalise._limits import (
    CUT_MARK,
    MAX_ATTRIBUTE_KEY_CHARS,
    MAX_ATTRIBUTE_VALUE_CHARS,
    MAX_ATTRIBUTES_PER_SPAN,
    MAX_CONTENT_CHARS,
    MAX_SPANS_PER_REQUEST,
)
from tokentrail_collector.normalise.logs import normalise_logs
from tokentrail_collector.normalise.metrics import normalise_metrics

TRACE = "0af7651916cd43dd8448eb211c80319c"
SPAN = "b7ad6b7169203331"
PROJECT = "p"


def many_attributes(count: int) -> dict[str, str]:
    return {f"key.{index:04}": str(index) for index in range(count)}


# --- log records ---------------------------------------------------------------------------------


def test_log_record_attributes_past_the_cap_are_dropped_and_counted() -> None:
    extra = 10
    record = log_record(
        TRACE, SPAN, sc.GEN_AI_USER_MESSAGE_EVENT, {"content": "hi"},
        attributes=many_attributes(MAX_ATTRIBUTES_PER_SPAN + extra - 1),  # + gen_ai.system
    )  # fmt: skip
    batch = normalise_logs(logs_request(record), project_id=PROJECT)
    (row,) = batch.rows
    assert len(row[sc.ATTRIBUTES]) == MAX_ATTRIBUTES_PER_SPAN  # type: ignore[arg-type]
    assert (batch.truncated, batch.refused_keys, batch.rejected) == (extra, 0, 0)
    assert "cut or dropped" in batch.limits_note() and "per log record" in batch.limits_note()


def test_log_record_values_are_cut_to_their_caps_and_hostile_keys_refused() -> None:
    record = log_record(
        TRACE,
        SPAN,
        sc.GEN_AI_USER_MESSAGE_EVENT,
        {"content": "q" * (MAX_CONTENT_CHARS + 5)},
        attributes={"__proto__": "x", "bad\x00key": "y", "note": "n" * (MAX_ATTRIBUTE_VALUE_CHARS + 1)},
    )
    record.body.string_value = "b" * (MAX_CONTENT_CHARS + 1)  # a plain body past the content cap
    batch = normalise_logs(logs_request(record), project_id=PROJECT)
    (row,) = batch.rows
    assert row[sc.ATTRIBUTES]["note"] == "n" * MAX_ATTRIBUTE_VALUE_CHARS + CUT_MARK  # type: ignore[index]
    assert "__proto__" not in row[sc.ATTRIBUTES]  # type: ignore[operator]
    assert len(str(row[sc.CONTENT])) < MAX_CONTENT_CHARS + 100
    assert CUT_MARK in str(row[sc.CONTENT])
    assert (batch.truncated, batch.refused_keys) == (2, 2)
    assert "2 attribute(s) dropped for a refused key" in batch.limits_note()


def test_a_log_record_with_an_endless_event_name_is_rejected() -> None:
    long_name = sc.GEN_AI_EVENT_PREFIX + "x" * MAX_ATTRIBUTE_KEY_CHARS
    batch = normalise_logs(
        logs_request(log_record(TRACE, SPAN, long_name, "body"), log_record(TRACE, SPAN, "gen_ai.ok", "b")),
        project_id=PROJECT,
    )
    assert len(batch.rows) == 1 and batch.rejected == 1
    assert f"at most {MAX_ATTRIBUTE_KEY_CHARS}" in batch.errors[0]


def test_too_many_log_records_are_refused_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    from tokentrail_collector.normalise import logs

    monkeypatch.setattr(logs, "MAX_SPANS_PER_REQUEST", 3)
    records = [log_record(TRACE, SPAN, "gen_ai.user.message", str(index)) for index in range(4)]
    batch = normalise_logs(logs_request(*records), project_id=PROJECT)
    assert (batch.rows, batch.rejected) == ([], 4)
    assert "4 log records, over the limit of 3 per request" in batch.errors[0]


# --- metric points -------------------------------------------------------------------------------


def point_with(attributes: dict[str, str], value: float = 1.0) -> NumberDataPoint:
    return NumberDataPoint(time_unix_nano=START_NS, as_double=value, attributes=key_values(attributes))


def test_metric_point_attributes_are_capped_cut_and_refused_with_counts() -> None:
    extra = 7
    attributes = {"key\u202e": "bidi override in the key"} | many_attributes(
        MAX_ATTRIBUTES_PER_SPAN + extra - 1
    )
    attributes["key.0001"] = "v" * (MAX_ATTRIBUTE_VALUE_CHARS + 1)
    metric = Metric(name="app.queue_depth", unit="1")
    metric.gauge.data_points.append(point_with(attributes))
    batch = normalise_metrics(metrics_request(metric), project_id=PROJECT)
    (row,) = batch.rows
    kept = row[sc.ATTRIBUTES]
    assert kept["key.0001"] == "v" * MAX_ATTRIBUTE_VALUE_CHARS + CUT_MARK  # type: ignore[index]
    assert not any("\u202e" in key for key in kept)  # type: ignore[union-attr]
    assert (batch.truncated, batch.refused_keys, batch.rejected) == (extra + 1, 1, 0)
    assert "per data point" in batch.limits_note()


def test_metric_names_and_units_past_the_key_cap_are_rejected() -> None:
    long_name = gauge("m" * (MAX_ATTRIBUTE_KEY_CHARS + 1), "1", [(None, START_NS, 1.0)])
    long_unit = gauge("fine", "u" * (MAX_ATTRIBUTE_KEY_CHARS + 1), [(None, START_NS, 1.0)])
    batch = normalise_metrics(
        metrics_request(long_name, long_unit, gauge("ok", "1", [(None, START_NS, 2.0)])), project_id=PROJECT
    )
    assert [row[sc.METRIC_NAME] for row in batch.rows] == ["ok"]
    assert batch.rejected == 2


def test_too_many_points_are_refused_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    from tokentrail_collector.normalise import metrics

    monkeypatch.setattr(metrics, "MAX_SPANS_PER_REQUEST", 2)
    request = metrics_request(gauge("g", "1", [(None, START_NS + index, 1.0) for index in range(3)]))
    batch = normalise_metrics(request, project_id=PROJECT)
    assert (batch.rows, batch.rejected) == ([], 3)
    assert "3 data points, over the limit of 2 per request" in batch.errors[0]


# --- over HTTP -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(collector: CollectorProcess) -> Iterator[httpx.Client]:
    with collector.client(collector.create_key("limits-logs-metrics")["key"]) as http:
        yield http


def cut_counts(collector: CollectorProcess) -> dict[tuple[str, str], float]:
    samples = parse_prometheus(httpx.get(collector.url + "/metrics", timeout=10).text)
    return {
        (signal, reason): sample(samples, "tokentrail_ingest_cut_total", signal=signal, reason=reason)
        for signal in ("logs", "metrics")
        for reason in ("truncated", "refused_key")
    }


def test_the_sender_and_metrics_are_told_what_was_cut(
    client: httpx.Client, collector: CollectorProcess
) -> None:
    before = cut_counts(collector)
    record = log_record(
        TRACE, SPAN, sc.GEN_AI_USER_MESSAGE_EVENT, {"content": "hello"},
        attributes={"constructor": "x", "long": "l" * (MAX_ATTRIBUTE_VALUE_CHARS + 1)},
    )  # fmt: skip
    logged = post(client, logs_request(record))
    assert logged.status_code == 200, logged.text
    note = partial_success(logged)["error_message"]
    assert "1 value(s), attribute(s) or event(s) cut" in note and "1 attribute(s) dropped" in note

    metric = Metric(name="app.temperature", unit="Cel")
    metric.gauge.data_points.append(
        point_with({"prototype": "x", "zone": "z" * (MAX_ATTRIBUTE_VALUE_CHARS + 1)})
    )
    measured = post(client, metrics_request(metric))
    assert measured.status_code == 200, measured.text
    assert "refused key" in partial_success(measured)["error_message"]

    after = cut_counts(collector)
    assert {key: after[key] - before[key] for key in after} == {
        ("logs", "truncated"): 1,
        ("logs", "refused_key"): 1,
        ("metrics", "truncated"): 1,
        ("metrics", "refused_key"): 1,
    }


def test_too_many_records_over_http_is_a_clear_400(client: httpx.Client) -> None:
    request = logs_request()
    records = request.resource_logs[0].scope_logs[0].log_records
    template = log_record(TRACE, SPAN, "gen_ai.user.message", "x")
    for _ in range(MAX_SPANS_PER_REQUEST + 1):
        records.add().CopyFrom(template)
    response = post(client, request)
    assert response.status_code == 400
    assert f"over the limit of {MAX_SPANS_PER_REQUEST} per request" in response.text


@pytest.mark.parametrize("path", ["/v1/traces", "/v1/logs", "/v1/metrics"])
def test_a_gzip_bomb_is_413_on_every_signal_and_the_collector_stays_up(
    client: httpx.Client, collector: CollectorProcess, path: str
) -> None:
    bomb = gzip.compress(bytes(64 << 20), compresslevel=9)  # 64 MiB of zeros inflated, 64 KiB sent
    assert len(bomb) < 1 << 20
    response = client.post(path, content=bomb, headers={"Content-Type": PROTOBUF, "Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert "larger than the limit" in response.text and "after decompression" in response.text
    assert httpx.get(collector.url + "/healthz", timeout=10).status_code == 200


def test_empty_requests_of_each_kind_still_commit_nothing_and_say_nothing(client: httpx.Client) -> None:
    for message in (ExportLogsServiceRequest(), ExportMetricsServiceRequest()):
        response = post(client, message)
        assert response.status_code == 200 and partial_success(response) == {}
