"""`tokentrail.score(...)` in the app: what it sends, and that it never raises, never blocks and counts
every score it could not deliver. The collector is a JSON sink on loopback here; test_scores_api.py
sends to a real collector."""

from __future__ import annotations

import math
import os

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import tokentrail
from tokentrail import _scores, semconv
from tokentrail._scores import MAX_BATCH_SIZE, MAX_QUEUE_SIZE

from .conftest import ScoreSink
from .sdk_traffic import current_ids

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
SPAN_ID = "b7ad6b7169203331"


def init_to(url: str) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    tokentrail.init(endpoint=url, api_key="tt_test-key", exporter=exporter)
    return exporter


def test_scores_the_current_span_or_its_trace(score_sink: ScoreSink) -> None:
    init_to(score_sink.url)

    @tokentrail.observe(kind="llm", name="answer")
    def answer() -> tuple[str, str]:
        tokentrail.score("thumbs", "down", comment="wrong city")
        tokentrail.score("helpful", False, whole_trace=True)
        tokentrail.score("faithfulness", 0.25, source="model")
        tokentrail.score("tokens", 3, source=semconv.ScoreSource.RULE)
        return current_ids()

    trace_id, span_id = answer()
    assert tokentrail.flush(timeout_s=10)

    (path, headers, _), *_ = score_sink.posts
    assert path == "/api/scores"
    assert headers["authorization"] == "Bearer tt_test-key"
    assert headers["content-type"] == "application/json"
    by_name = {score["name"]: score for score in score_sink.scores()}
    assert by_name["thumbs"]["value"] == "down"
    assert by_name["thumbs"]["comment"] == "wrong city"
    assert by_name["thumbs"]["source"] == "user"
    assert (by_name["thumbs"]["trace_id"], by_name["thumbs"]["span_id"]) == (trace_id, span_id)
    assert by_name["helpful"]["value"] is False
    assert (by_name["helpful"]["trace_id"], by_name["helpful"]["span_id"]) == (trace_id, "")
    assert by_name["faithfulness"]["value"] == 0.25 and by_name["faithfulness"]["source"] == "model"
    assert by_name["tokens"]["value"] == 3.0 and by_name["tokens"]["source"] == "rule"
    assert len({score["score_id"] for score in by_name.values()}) == 4
    stats = tokentrail.score_stats()
    assert (stats.enqueued, stats.sent, stats.dropped, stats.invalid) == (4, 4, 0, 0)


def test_explicit_ids_and_a_chosen_score_id(score_sink: ScoreSink) -> None:
    init_to(score_sink.url)
    returned = tokentrail.score(
        "quality",
        0.9,
        trace_id=TRACE_ID.upper(),
        span_id=SPAN_ID.upper(),
        score_id="review-17",
        source="human",
    )
    on_trace = tokentrail.score("resolved", True, trace_id=TRACE_ID)
    assert tokentrail.flush(timeout_s=10)
    assert returned == "review-17"
    sent = {score["score_id"]: score for score in score_sink.scores()}
    assert (sent["review-17"]["trace_id"], sent["review-17"]["span_id"]) == (TRACE_ID, SPAN_ID)
    assert on_trace is not None and sent[on_trace]["span_id"] == ""


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        ({"name": "", "value": 1}, "empty name"),
        ({"name": "q", "value": None}, "no value"),
        ({"name": "q", "value": math.nan}, "NaN"),
        ({"name": "q", "value": math.inf}, "infinite"),
        ({"name": "q", "value": [1, 2]}, "a list"),
        ({"name": "q", "value": ""}, "empty category"),
        ({"name": "q", "value": 1, "source": "robot"}, "unknown source"),
        ({"name": "q", "value": 1, "trace_id": "not-hex"}, "bad trace id"),
        ({"name": "q", "value": 1, "trace_id": TRACE_ID, "span_id": "123"}, "bad span id"),
        ({"name": "q", "value": 1, "span_id": SPAN_ID}, "span id without trace id"),
        ({"name": "q", "value": 1}, "no current span and no trace id"),
    ],
)
def test_invalid_scores_are_refused_and_counted_never_raised(
    score_sink: ScoreSink, arguments: dict[str, object], reason: str
) -> None:
    init_to(score_sink.url)
    assert tokentrail.score(**arguments) is None, reason  # type: ignore[arg-type]
    assert tokentrail.flush(timeout_s=5)
    stats = tokentrail.score_stats()
    assert (stats.invalid, stats.enqueued) == (1, 0), reason
    assert score_sink.posts == []


def test_before_init_scores_are_counted_not_sent() -> None:
    tokentrail.shutdown()
    assert tokentrail.score("q", 1, trace_id=TRACE_ID) is None
    assert tokentrail.score_stats().not_initialised == 1


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two tries a batch, 50 ms apart at most, so that giving up takes no time in a test."""
    monkeypatch.setattr(_scores, "MAX_SEND_ATTEMPTS", 2)
    monkeypatch.setattr(_scores, "RETRY_BASE_S", 0.05)


@pytest.mark.usefixtures("quick_retries")
def test_collector_down_counts_failed_sends(closed_port_url: str) -> None:
    init_to(closed_port_url)
    for value in range(3):
        assert tokentrail.score("q", value, trace_id=TRACE_ID) is not None
    assert not tokentrail.flush(timeout_s=10)
    stats = tokentrail.score_stats()
    assert stats.dropped_send_failed == 3
    assert stats.enqueued == stats.sent + stats.dropped
    assert stats.last_error is not None and "Connection refused" in stats.last_error


def test_refused_posts_are_counted_with_the_collectors_answer(score_sink: ScoreSink) -> None:
    score_sink.status = 401
    init_to(score_sink.url)
    tokentrail.score("q", 1, trace_id=TRACE_ID)
    assert not tokentrail.flush(timeout_s=10)
    stats = tokentrail.score_stats()
    assert stats.dropped_send_failed == 1
    assert stats.last_error is not None and "401" in stats.last_error


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_a_collector_that_asks_to_wait_is_tried_again_after_its_retry_after(
    score_sink: ScoreSink, status: int
) -> None:
    score_sink.failures = [(status, "1"), (status, None)]
    init_to(score_sink.url)
    ids = [tokentrail.score("q", value, trace_id=TRACE_ID) for value in range(3)]
    assert tokentrail.flush(timeout_s=20)
    stats = tokentrail.score_stats()
    assert (stats.sent, stats.dropped) == (3, 0)
    assert sorted(score["score_id"] for score in score_sink.scores()) == sorted(ids)  # type: ignore[type-var]
    first, second, third = score_sink.attempts
    assert second - first >= 1.0, "the collector's Retry-After was honoured"
    assert third > second


@pytest.mark.usefixtures("quick_retries")
def test_a_collector_that_keeps_failing_is_given_up_on_after_the_last_try(score_sink: ScoreSink) -> None:
    score_sink.failures = [(503, None)] * 5
    init_to(score_sink.url)
    tokentrail.score("q", 1, trace_id=TRACE_ID)
    assert not tokentrail.flush(timeout_s=10)
    stats = tokentrail.score_stats()
    assert (stats.sent, stats.dropped_send_failed) == (0, 1)
    assert len(score_sink.attempts) == 2 and stats.last_error is not None and "503" in stats.last_error
    tokentrail.score("q", 2, trace_id=TRACE_ID)  # the next batch gets its own tries
    assert not tokentrail.flush(timeout_s=10)
    assert len(score_sink.attempts) == 4


def test_a_refused_post_is_not_tried_again(score_sink: ScoreSink) -> None:
    score_sink.failures = [(400, None)]
    init_to(score_sink.url)
    tokentrail.score("q", 1, trace_id=TRACE_ID)
    assert not tokentrail.flush(timeout_s=10)
    assert len(score_sink.attempts) == 1 and tokentrail.score_stats().dropped_send_failed == 1


def test_full_queue_drops_and_counts_without_blocking(score_sink: ScoreSink) -> None:
    init_to(score_sink.url)
    score_sink.release.clear()
    for value in range(MAX_BATCH_SIZE):  # a full batch wakes the worker, which then hangs in the POST
        tokentrail.score("q", value, trace_id=TRACE_ID)
    assert score_sink.entered.wait(10)
    extra = 7
    for value in range(MAX_QUEUE_SIZE + extra):
        tokentrail.score("q", value, trace_id=TRACE_ID)
    assert tokentrail.score_stats().dropped_queue_full == extra
    score_sink.release.set()
    assert tokentrail.flush(timeout_s=30)
    stats = tokentrail.score_stats()
    assert stats.sent == MAX_BATCH_SIZE + MAX_QUEUE_SIZE == len(score_sink.scores())
    assert stats.enqueued == stats.sent + stats.dropped


def test_shutdown_keeps_the_counts_and_a_new_init_starts_afresh(score_sink: ScoreSink) -> None:
    init_to(score_sink.url)
    tokentrail.score("q", 1, trace_id=TRACE_ID)
    tokentrail.shutdown(timeout_s=10)  # delivers what is queued
    assert tokentrail.score_stats().sent == 1
    assert len(score_sink.scores()) == 1
    init_to(score_sink.url)
    assert tokentrail.score_stats().sent == 0


def test_no_thread_until_the_first_score(score_sink: ScoreSink) -> None:
    init_to(score_sink.url)
    sender = _scores._sender  # noqa: SLF001 - the worker is the point of this test
    assert sender is not None and sender._worker is None  # noqa: SLF001
    tokentrail.score("q", 1, trace_id=TRACE_ID)
    assert sender._worker is not None and sender._worker.daemon  # noqa: SLF001


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_sends_with_its_own_worker(score_sink: ScoreSink) -> None:
    init_to(score_sink.url)
    tokentrail.score("parent", 1, trace_id=TRACE_ID)
    assert tokentrail.flush(timeout_s=10)
    pid = os.fork()
    if pid == 0:  # the child: report through the exit code, never return into pytest
        code = 1
        try:
            tokentrail.score("child", 2, trace_id=TRACE_ID)
            stats = tokentrail.score_stats()
            code = 0 if tokentrail.flush(timeout_s=10) and stats.enqueued == 1 else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert sorted(score["name"] for score in score_sink.scores()) == ["child", "parent"]
