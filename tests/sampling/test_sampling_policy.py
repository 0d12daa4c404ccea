"""The sampling decision in isolation: OpenTelemetry's trace-id rule, the keep rules, the routing,
and the held table's columns beside the canonical ones."""

from __future__ import annotations

import math
import os
import re
import threading
import time
from datetime import datetime, timezone
from importlib import resources

import pytest
from opentelemetry.sdk.trace.sampling import Decision, TraceIdRatioBased

from tokentrail import semconv as sc
from tokentrail_collector.sampling import Reason, SamplingPolicy, route, trace_sampled
from tokentrail_collector.storage import sampling as sampling_store

HOLD_UNTIL = datetime(2030, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize("rate", [0.0, 0.01, 0.1, 0.25, 0.5, 0.9, 1.0])
def test_the_trace_hash_decides_as_opentelemetrys_ratio_sampler(rate: float) -> None:
    sampler = TraceIdRatioBased(rate)
    for _ in range(500):
        trace_id = os.urandom(16).hex()
        otel = sampler.should_sample(None, int(trace_id, 16), "span").decision
        assert trace_sampled(trace_id, rate) == (otel is Decision.RECORD_AND_SAMPLE)


def test_ids_that_are_not_hex_are_hashed_deterministically() -> None:
    assert trace_sampled("not-hex", 0.5) == trace_sampled("not-hex", 0.5)
    kept = sum(trace_sampled(f"id-{n}", 0.3) for n in range(4000))
    assert 0.25 * 4000 < kept < 0.35 * 4000


def row(trace_id: str, **values: object) -> dict[str, object]:
    base: dict[str, object] = {
        sc.TRACE_ID: trace_id, sc.STATUS_CODE: "unset", sc.DURATION_MS: 10.0, sc.COST_USD: None,
        sc.INPUT_TOKENS: None, sc.OUTPUT_TOKENS: None,
    }  # fmt: skip
    return base | values


def ids(*, sampled: bool, rate: float) -> list[str]:
    found: list[str] = []
    while len(found) < 4:
        trace_id = os.urandom(16).hex()
        if trace_sampled(trace_id, rate) == sampled:
            found.append(trace_id)
    return found


def test_rules_keep_whole_traces_and_the_rest_goes_by_the_hash() -> None:
    policy = SamplingPolicy(rate=0.2, slow_ms=1000, expensive_usd=1.0)
    error, slow, expensive, kept_before = ids(sampled=False, rate=0.2)
    priced, dropped, error_again = ids(sampled=False, rate=0.2)[:3]
    sampled = ids(sampled=True, rate=0.2)[0]
    rows = [
        row(error), row(error, **{sc.STATUS_CODE: "error"}),
        row(slow), row(slow, **{sc.DURATION_MS: 1000.0}),
        row(expensive, **{sc.COST_USD: 1.5}),
        row(priced, **{sc.INPUT_TOKENS: 10}),
        row(kept_before), row(sampled), row(dropped), row(dropped),
        row(error_again, **{sc.STATUS_CODE: "error"}),  # kept earlier: not kept (promoted) anew
    ]  # fmt: skip
    asked: list[set[str]] = []

    def kept(trace_ids: object) -> set[str]:
        asked.append(set(trace_ids))  # type: ignore[call-overload]
        return {kept_before, error_again}

    routing = route(
        rows, policy, held_until=HOLD_UNTIL, kept_before=kept,
        costs=lambda spans: [2.0 for _ in spans],  # the price table would say 2 USD
    )  # fmt: skip
    assert routing.newly_kept == {
        error: Reason.ERROR, slow: Reason.SLOW, expensive: Reason.EXPENSIVE, priced: Reason.EXPENSIVE,
    }  # fmt: skip
    assert asked == [{error, slow, expensive, priced, kept_before, sampled, dropped, error_again}]
    assert routing.ruled == {error, slow, expensive, priced, error_again}
    weights = {(r[sc.TRACE_ID], r[sampling_store.SAMPLE_WEIGHT]) for r in routing.weighted}
    assert weights == {
        (error, 1.0), (slow, 1.0), (expensive, 1.0), (priced, 1.0), (kept_before, 1.0), (sampled, 5.0),
        (error_again, 1.0),
    }  # fmt: skip
    assert [r[sc.TRACE_ID] for r in routing.held] == [dropped, dropped]
    assert all(r[sampling_store.HELD_UNTIL] == HOLD_UNTIL for r in routing.held)
    assert routing.kept_spans == {
        Reason.ERROR: 3, Reason.SLOW: 2, Reason.EXPENSIVE: 2, Reason.KEPT_TRACE: 1, Reason.SAMPLED: 1,
    }  # fmt: skip


def test_low_scores_and_turned_off_rules() -> None:
    policy = SamplingPolicy(rate=0.1, low_score=0.5)
    assert policy.is_low(0.2) and policy.is_low(False)
    assert not policy.is_low(0.5) and not policy.is_low(True) and not policy.is_low("bad")
    assert policy.rule(row("a", **{sc.DURATION_MS: 1e12, sc.COST_USD: 1e9})) is None  # inf: off
    assert not SamplingPolicy(rate=0.1).is_low(-1e300)
    assert SamplingPolicy(rate=0.1).weight == pytest.approx(10) and SamplingPolicy(rate=0).weight == 0
    with pytest.raises(ValueError):
        SamplingPolicy(rate=1.5)
    assert math.isinf(SamplingPolicy(rate=0.1).slow_ms)


def test_the_held_table_has_the_canonical_columns_in_order() -> None:
    """A column added to spans (and CANONICAL_COLUMNS) must be added to held_spans too."""
    text = (
        resources.files("tokentrail_collector.storage").joinpath("migrations/0010_sampling.sql").read_text()
    )
    create = text[text.index("CREATE TABLE IF NOT EXISTS held_spans") :].split("ENGINE")[0]
    columns = re.findall(r"^\s{4}([a-z_0-9]+)\s", create, re.MULTILINE)
    assert tuple(columns) == (*sampling_store.HELD_SPAN_COLUMNS, "ingested_at", "promoted")


def test_concurrent_store_questions_share_one_query_per_project() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from tokentrail_collector.sampling import _SharedLookup

    calls: list[tuple[str, list[str]]] = []
    release = threading.Event()

    def lookup(project_id: str, trace_ids: list[str]) -> dict[str, int]:
        calls.append((project_id, trace_ids))
        release.wait(5)
        return {t: 1 for t in trace_ids if t.startswith("k")}

    shared = _SharedLookup(lookup)
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(shared.ask, "p", ["k0", "x0"])
        while not calls:  # the first asker is querying; the others queue meanwhile
            time.sleep(0.001)
        rest = [pool.submit(shared.ask, "p" if n % 2 else "q", [f"k{n}", f"x{n}"]) for n in range(1, 7)]
        time.sleep(0.05)
        release.set()
        assert first.result() == {"k0": 1}
        assert [future.result() for future in rest] == [{f"k{n}": 1} for n in range(1, 7)]
    assert len(calls) == 3  # the first question, then one query for each project of the queued ones
    assert sorted(calls[1:]) == [
        ("p", ["k1", "k3", "k5", "x1", "x3", "x5"]),
        ("q", ["k2", "k4", "k6", "x2", "x4", "x6"]),
    ]

    def broken(project_id: str, trace_ids: list[str]) -> dict[str, int]:
        raise RuntimeError("store down")

    with pytest.raises(RuntimeError, match="store down"):
        _SharedLookup(broken).ask("p", ["a"])
