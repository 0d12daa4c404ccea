"""Per-key rate limit: a token bucket per API key, 429 + Retry-After when empty, then recovery."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.ingest.otlp_bodies import llm_span, post, traces_request
from tests.security.conftest import parse_prometheus, sample
from tests.support import CollectorProcess
from tokentrail_collector.ratelimit import KeyRateLimiter

BURST = 3  # conftest.RATE_LIMIT: burst 3, 1 request per second


def _drain(client: httpx.Client) -> httpx.Response:
    """Spend the key's burst, then return the first refused response."""
    for _ in range(BURST * 4):
        response = client.get("/api/traces")
        if response.status_code == 429:
            return response
        assert response.status_code == 200, response.text
    pytest.fail("the rate limit never answered 429")


def test_429_with_retry_after_then_recovery(guarded: CollectorProcess) -> None:
    key = guarded.create_key("limited")["key"]
    with guarded.client(key) as client:
        refused = _drain(client)
        retry_after = int(refused.headers["Retry-After"])
        assert retry_after >= 1
        assert "rate limit" in refused.json()["detail"]
        # OTLP ingest is limited by the same bucket (exporters retry on 429 with Retry-After).
        span = llm_span("5b8efff798038103d269b633813fc60d", "eee19b7ec3c1b179")
        assert post(client, traces_request(span)).status_code == 429
        time.sleep(retry_after)  # waiting as told is enough
        assert client.get("/api/traces").status_code == 200


def test_buckets_are_per_key(guarded: CollectorProcess) -> None:
    first = guarded.create_key("per-key")["key"]
    second = guarded.create_key("per-key")["key"]
    with guarded.client(first) as client:
        _drain(client)
    with guarded.client(second) as client:
        assert client.get("/api/traces").status_code == 200


def test_refusals_are_counted_in_metrics(guarded: CollectorProcess) -> None:
    key = guarded.create_key("counted")["key"]
    before = sample(
        parse_prometheus(httpx.get(guarded.url + "/metrics").text), "tokentrail_rate_limited_total"
    )
    with guarded.client(key) as client:
        _drain(client)
    samples = parse_prometheus(httpx.get(guarded.url + "/metrics").text)
    assert sample(samples, "tokentrail_rate_limited_total") == before + 1
    assert sample(samples, "tokentrail_http_requests_total", route="/api/traces", status_class="4xx") >= 1


def test_unknown_keys_are_refused_before_the_limit(guarded: CollectorProcess) -> None:
    with guarded.client("tt_" + "x" * 43) as client:
        statuses = {client.get("/api/traces").status_code for _ in range(BURST + 2)}
    assert statuses == {401}


def test_default_limit_is_generous(collector: CollectorProcess) -> None:
    key = collector.create_key("busy")["key"]
    with collector.client(key) as client:
        assert {client.get("/api/traces").status_code for _ in range(50)} == {200}


# --- the bucket itself, on a given clock --------------------------------------------------------


def test_bucket_burst_then_refill() -> None:
    limiter = KeyRateLimiter(2.0, 4)
    assert [limiter.acquire("k", now=0.0) for _ in range(4)] == [None] * 4
    assert limiter.acquire("k", now=0.0) == 1  # half a second to the next token, said as 1 s
    assert limiter.acquire("k", now=0.5) is None
    assert limiter.acquire("k", now=0.5) == 1
    assert limiter.acquire("other", now=0.5) is None  # another key, another bucket
    # A long pause refills to the burst, never beyond it.
    assert [limiter.acquire("k", now=100.0) for _ in range(5)] == [None] * 4 + [1]


def test_retry_after_is_the_time_to_the_next_token() -> None:
    limiter = KeyRateLimiter(0.1, 1)  # one token per 10 s
    assert limiter.acquire("k", now=0.0) is None
    assert limiter.acquire("k", now=0.0) == 10
    assert limiter.acquire("k", now=7.5) == 3


def test_bucket_refuses_nonsense_settings() -> None:
    with pytest.raises(ValueError):
        KeyRateLimiter(0, 10)
    with pytest.raises(ValueError):
        KeyRateLimiter(1, 0)
