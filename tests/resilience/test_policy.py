"""The pure parts of the delivery policy: reading Retry-After, the jittered back-off, what each
answer means, and how the spool settings resolve."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest
from google.rpc.status_pb2 import Status
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

import tokentrail
from tokentrail._config import Settings, resolve_settings
from tokentrail._otlp import Outcome, Verdict, classify
from tokentrail._retry import BACKOFF_CAP_S, RETRY_AFTER_MAX_S, Backoff, RetrySchedule, parse_retry_after
from tokentrail._spool import Spool
from tokentrail._spool_options import DEFAULT_SPOOL_MAX_BYTES, default_spool_dir, resolve_spool

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=timezone.utc)
PROTOBUF = {"content-type": "application/x-protobuf"}


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("5", 5.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        ("1.5", 1.5),
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        (format_datetime(NOW - timedelta(seconds=30), usegmt=True), 0.0),  # already past: now
        ("Sun, 06 Nov 1994 08:49:37 GMT", 0.0),
        ("86400", RETRY_AFTER_MAX_S),  # capped
        (None, None),
        ("", None),
        ("soon", None),
        ("-3", None),
        ("nan", None),
        ("inf", None),
    ],
)
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


@given(st.text(max_size=40))
def test_parse_retry_after_never_raises(header: str) -> None:
    value = parse_retry_after(header, now=NOW)
    assert value is None or 0.0 <= value <= RETRY_AFTER_MAX_S


@given(st.lists(st.floats(min_value=0.0, max_value=0.999999), min_size=1, max_size=40))
def test_backoff_is_full_jitter_under_a_growing_cap(fractions: list[float]) -> None:
    draws = iter(fractions)
    backoff = Backoff(base_s=0.5, cap_s=BACKOFF_CAP_S, random_fraction=lambda: next(draws))
    for attempt, fraction in enumerate(fractions, start=1):
        ceiling = min(BACKOFF_CAP_S, 0.5 * 2 ** (attempt - 1))
        assert backoff.next_delay() == pytest.approx(fraction * ceiling)


def test_retry_after_is_never_shortened_and_the_backoff_restarts_after_success() -> None:
    backoff = Backoff(random_fraction=lambda: 0.999)
    assert 7.0 <= backoff.next_delay(7.0) <= 7.7
    assert backoff.next_delay(0.0) == 0.0
    backoff.reset()
    assert backoff.next_delay() == pytest.approx(0.999 * 0.5)


def test_a_flush_cuts_our_back_off_once_but_never_a_retry_after() -> None:
    schedule = RetrySchedule(Backoff(random_fraction=lambda: 0.5))
    schedule.failed(None, now=100.0, flush_calls=0)
    assert not schedule.may_try(now=100.1, flush_calls=0)
    assert schedule.may_try(now=100.1, flush_calls=1)  # a flush since the failure
    schedule.failed(None, now=100.2, flush_calls=1)
    assert not schedule.may_try(now=100.3, flush_calls=1)  # the same flush again: no
    schedule.failed(10.0, now=200.0, flush_calls=1)
    assert not schedule.may_try(now=205.0, flush_calls=9)  # the collector's own figure stands
    assert schedule.may_try(now=210.5, flush_calls=9)
    assert schedule.recovered() is True and schedule.retry_at == 0.0
    assert schedule.recovered() is False


@pytest.mark.parametrize(("status", "verdict"), [(429, Verdict.RETRY), (502, Verdict.RETRY), (503, Verdict.RETRY),
                                                 (504, Verdict.RETRY), (400, Verdict.REFUSED), (401, Verdict.REFUSED),
                                                 (403, Verdict.REFUSED), (404, Verdict.REFUSED), (413, Verdict.REFUSED),
                                                 (500, Verdict.REFUSED), (501, Verdict.REFUSED), (200, Verdict.DELIVERED),
                                                 (202, Verdict.DELIVERED)])  # fmt: skip
def test_classify_by_status(status: int, verdict: Verdict) -> None:
    assert classify(status, {}, b"").verdict is verdict


def test_classify_reads_partial_success_in_protobuf_and_json() -> None:
    response = ExportTraceServiceResponse()
    response.partial_success.rejected_spans = 4
    response.partial_success.error_message = "4 spans without a name"
    outcome = classify(200, PROTOBUF, response.SerializeToString())
    assert (outcome.verdict, outcome.rejected) == (Verdict.DELIVERED, 4)
    assert outcome.detail == "collector rejected 4 span(s): 4 spans without a name"
    json_body = b'{"partialSuccess": {"rejectedSpans": "2", "errorMessage": "x"}}'
    assert classify(200, {"content-type": "application/json"}, json_body).rejected == 2
    assert classify(200, PROTOBUF, b"\xff\xff garbage").rejected == 0  # unreadable: taken as full success


def test_classify_keeps_the_collectors_message_and_retry_after() -> None:
    refused = classify(400, PROTOBUF, Status(code=3, message="trace_id must be 16 bytes").SerializeToString())
    assert refused.detail == "collector answered 400: trace_id must be 16 bytes"
    assert refused.body_refused
    assert not classify(401, {"content-type": "text/plain"}, b"bad key").body_refused
    assert not Outcome(Verdict.REFUSED, detail="SSLError: certificate verify failed").body_refused
    assert (
        classify(401, {"content-type": "text/plain"}, b"bad key").detail == "collector answered 401: bad key"
    )
    busy = classify(429, {"retry-after": "3"}, b"")
    assert (busy.verdict, busy.retry_after_s) == (Verdict.RETRY, 3.0)


def _settings() -> Settings:
    return resolve_settings({}, endpoint="http://collector:4318", service_name="svc")


def test_spool_defaults_to_a_folder_per_collector_and_service_in_the_cache(tmp_path: Path) -> None:
    environ = {"XDG_CACHE_HOME": str(tmp_path)}
    options = resolve_spool(environ, _settings(), spool=None, spool_dir=None, spool_max_bytes=None)
    assert options is not None
    assert options.max_bytes == DEFAULT_SPOOL_MAX_BYTES
    assert options.directory.parent == tmp_path / "tokentrail" / "spool"
    other = default_spool_dir(resolve_settings({}, endpoint="http://other:4318", service_name="svc"), environ)
    assert other != options.directory


def test_spool_settings_from_arguments_and_environment(tmp_path: Path) -> None:
    settings = _settings()
    environ = {"TOKENTRAIL_SPOOL_DIR": str(tmp_path / "env"), "TOKENTRAIL_SPOOL_MAX_BYTES": "4096"}
    from_env = resolve_spool(environ, settings, spool=None, spool_dir=None, spool_max_bytes=None)
    assert from_env is not None and (from_env.directory, from_env.max_bytes) == (tmp_path / "env", 4096)
    explicit = resolve_spool(environ, settings, spool=True, spool_dir=tmp_path / "arg", spool_max_bytes=10)
    assert explicit is not None and (explicit.directory, explicit.max_bytes) == (tmp_path / "arg", 10)
    assert (
        resolve_spool(
            {"TOKENTRAIL_SPOOL": "false"}, settings, spool=None, spool_dir=None, spool_max_bytes=None
        )
        is None
    )
    assert resolve_spool({}, settings, spool=False, spool_dir=tmp_path, spool_max_bytes=None) is None


def test_bad_spool_settings(caplog: pytest.LogCaptureFixture) -> None:
    settings = _settings()
    with pytest.raises(ValueError, match="spool_max_bytes"):
        resolve_spool({}, settings, spool=None, spool_dir=None, spool_max_bytes=0)
    with pytest.raises(TypeError, match="spool must be a bool"):
        resolve_spool({}, settings, spool="yes", spool_dir=None, spool_max_bytes=None)
    options = resolve_spool(
        {"TOKENTRAIL_SPOOL_MAX_BYTES": "lots"}, settings, spool=None, spool_dir=None, spool_max_bytes=None
    )
    assert options is not None and options.max_bytes == DEFAULT_SPOOL_MAX_BYTES
    assert "TOKENTRAIL_SPOOL_MAX_BYTES" in caplog.text


def test_spool_files_are_private(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "private", 1_000)
    assert spool.write(b"body")
    (name,) = spool.pending_files()
    if os.name == "posix":
        assert (tmp_path / "private" / name).stat().st_mode & 0o077 == 0
        assert (tmp_path / "private").stat().st_mode & 0o077 == 0


def test_export_stats_as_a_dict_for_metrics() -> None:
    stats = tokentrail.ExportStats(
        enqueued=10, exported=5, spooled=2, rejected_by_collector=1, dropped_buffer_full=2, retries=3
    )
    counts = stats.as_dict()
    assert counts["dropped"] == 2 and counts["pending"] == 0 and counts["retries"] == 3
    assert all(isinstance(value, int) for value in counts.values())
    assert stats.losses() == {"dropped_buffer_full": 2, "rejected_by_collector": 1}
