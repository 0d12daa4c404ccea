"""The cost plan: which price applies to a span (custom over shipped from the custom price's date),
and its encoding as the cost statement's array parameters, checked against direct resolution."""

from __future__ import annotations

import math
from datetime import date, datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokentrail import pricing
from tokentrail.pricing import Usage, cost_of, shipped_table, usage_cost
from tokentrail.semconv import CostSource
from tokentrail_collector import pricing as collector_pricing
from tokentrail_collector.pricing import (
    MAX_NAMES_PER_PROJECT,
    UNSEEN_MODEL,
    CostPlan,
    CustomMatcher,
    CustomPrice,
    PriceBook,
    custom_price,
    in_force,
    resolve,
    to_ns,
)

TABLE = shipped_table()
NAMES = ["gpt-4o", "gpt-4o-2024-05-13", "gpt-4o-mini", "o3", "claude-3-5-sonnet-20241022", "deepseek-chat",
         "mistral-large-latest", "in-house-model", "acme-7b-chat", "acme-70b-chat", ""]  # fmt: skip
CUSTOM = (
    custom_price("gpt-4o", input=1.0, output=4.0, effective_from=date(2025, 1, 1), note="negotiated"),
    custom_price("gpt-4o", input=0.5, output=2.0, effective_from=date(2025, 7, 1)),
    custom_price("acme-*-chat", input=0.2, output=0.2, cached_input=0.1),
    custom_price("acme-70b-chat", input=0.9, output=0.9, effective_from=datetime(2025, 3, 3, 12, 30)),
)


def ns(day: date) -> int:
    return to_ns(datetime(day.year, day.month, day.day, tzinfo=timezone.utc))


def test_a_custom_price_wins_from_its_date_and_the_shipped_table_applies_before() -> None:
    pricing = resolve("gpt-4o-2024-11-20", TABLE, CustomMatcher(CUSTOM))
    assert pricing.shipped is not None and pricing.shipped.key == "openai/gpt-4o"
    assert pricing.custom_pattern == "gpt-4o"
    before = in_force(pricing.segments, ns(date(2024, 12, 31)))
    assert before is not None and before.source is CostSource.PRICE_TABLE and before.rates.input == 2.5
    january = in_force(pricing.segments, ns(date(2025, 1, 1)))
    assert january is not None and january.source is CostSource.CUSTOM_PRICE and january.rates.input == 1.0
    later = in_force(pricing.segments, ns(date(2026, 1, 1)))
    assert later is not None and later.rates.input == 0.5


def test_a_custom_price_for_an_unknown_model_prices_it_from_its_date_only() -> None:
    matcher = CustomMatcher(CUSTOM)
    family = resolve("acme-7b-chat", TABLE, matcher)
    assert family.shipped is None and family.custom_pattern == "acme-*-chat"
    assert in_force(family.segments, 0) is not None  # no date: for all spans
    specific = resolve("acme-70b-chat", TABLE, matcher)
    assert specific.custom_pattern == "acme-70b-chat"  # the more specific pattern wins
    assert in_force(specific.segments, to_ns(datetime(2025, 3, 3, 12, 29, tzinfo=timezone.utc))) is None
    assert resolve("in-house-model", TABLE, matcher).segments == ()


def test_other_projects_prices_do_not_leak_into_a_plan() -> None:
    plan = CostPlan.build(["gpt-4o"], TABLE, ())
    segment = plan.segment_at("gpt-4o", "gpt-4o", ns(date(2026, 1, 1)))
    assert segment is not None and segment.source is CostSource.PRICE_TABLE


def test_the_response_model_prices_a_span_and_the_request_model_stands_in() -> None:
    plan = CostPlan.build(["gpt-4o", "gpt-4o-2024-05-13", "in-house-model", ""], TABLE, ())
    at = ns(date(2025, 1, 1))
    assert plan.segment_at("gpt-4o-2024-05-13", "gpt-4o", at).rates.input == 5.0  # type: ignore[union-attr]
    assert plan.segment_at("", "gpt-4o", at).rates.input == 2.5  # type: ignore[union-attr]
    assert plan.segment_at("in-house-model", "gpt-4o", at).rates.input == 2.5  # type: ignore[union-attr]
    assert plan.segment_at("in-house-model", "", at) is None
    assert plan.segment_at("never-seen", "gpt-4o", at) is None  # to be learnt, then read again


def _sql_lookup(
    parameters: dict[str, object], response: str, request: str, at_ns: int
) -> tuple[float, str] | None:
    """What storage.sql.COST_WITH computes, step by step, from the parameters alone."""
    ids = dict(zip(parameters["price_names"], parameters["price_ids"], strict=True))  # type: ignore[call-overload]
    price_id = ids.get(response, UNSEEN_MODEL)
    if price_id == 0:
        price_id = ids.get(request, UNSEEN_MODEL)
    if at_ns >= parameters["price_last_bound"]:  # type: ignore[operator]
        era = parameters["price_eras"] - 1  # type: ignore[operator]
    else:
        era = sum(1 for bound in parameters["price_bounds"] if bound <= at_ns)  # type: ignore[attr-defined]
    key = price_id * parameters["price_eras"] + era  # type: ignore[operator]
    keys = list(parameters["price_keys"])  # type: ignore[call-overload]
    if key not in keys:
        return None
    index = keys.index(key)
    rate = parameters["price_input"][index]  # type: ignore[index]
    return None if math.isnan(rate) else (rate, parameters["price_sources"][index])  # type: ignore[index]


times = st.integers(min_value=ns(date(2023, 1, 1)), max_value=ns(date(2027, 1, 1)))


@settings(max_examples=300)
@given(response=st.sampled_from(NAMES), request=st.sampled_from(NAMES), at_ns=times,
       custom=st.lists(st.sampled_from(CUSTOM), unique=True))  # fmt: skip
def test_the_parameters_encode_the_same_price_as_direct_resolution(
    response: str, request: str, at_ns: int, custom: list[CustomPrice]
) -> None:
    plan = CostPlan.build(NAMES, TABLE, custom)
    matcher = CustomMatcher(custom)
    chosen = resolve(response, TABLE, matcher) if response else None
    if chosen is None or not chosen.segments:
        chosen = resolve(request, TABLE, matcher) if request else None
    expected = in_force(chosen.segments, at_ns) if chosen is not None else None

    assert plan.segment_at(response, request, at_ns) == expected
    found = _sql_lookup(plan.parameters(), response, request, at_ns)
    assert found == (None if expected is None else (expected.rates.input, expected.source.value))


@settings(max_examples=200)
@given(name=st.sampled_from(NAMES[:7]), at_ns=times, usage=st.builds(
    Usage, st.integers(0, 10**7), st.integers(0, 10**6), st.none() | st.integers(0, 10**6),
    st.none() | st.integers(0, 10**5), st.none() | st.integers(0, 10**5)))  # fmt: skip
def test_without_custom_prices_the_plan_prices_like_cost_of(name: str, at_ns: int, usage: Usage) -> None:
    segment = CostPlan.build([name], TABLE, ()).segment_at(name, name, at_ns)
    at = datetime.fromtimestamp(at_ns / 1e9, tz=timezone.utc)
    direct = cost_of(name, usage, at=at)
    planned = None if segment is None else usage_cost(usage, segment.rates)
    assert planned == pytest.approx(direct)


def test_parameter_arrays_line_up() -> None:
    parameters = CostPlan.build(NAMES, TABLE, CUSTOM).parameters()
    assert len(parameters["price_names"]) == len(parameters["price_ids"])  # type: ignore[arg-type]
    lengths = {len(parameters[name]) for name in ("price_keys", "price_input", "price_output",  # type: ignore[arg-type]
               "price_cached_input", "price_cache_write_input", "price_reasoning", "price_sources")}  # fmt: skip
    assert len(lengths) == 1
    assert parameters["price_bounds"] == sorted(parameters["price_bounds"])  # type: ignore[type-var]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"pattern": "GPT 4o", "input": 1, "output": 1}, "not a model pattern"),
        ({"pattern": "*", "input": 1, "output": 1}, "besides"),
        ({"pattern": "x", "input": -1, "output": 1}, "input"),
        ({"pattern": "x", "input": 1, "output": float("nan")}, "output"),
        ({"pattern": "x", "input": 1, "output": 1, "reasoning": 10**9}, "reasoning"),
        ({"pattern": "x", "input": 1, "output": 1, "note": "n" * 501}, "note"),
        ({"pattern": "x", "input": 1, "output": 1, "effective_from": date(1960, 1, 1)}, "effective_from"),
    ],
)
def test_a_bad_custom_price_is_refused(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        custom_price(**arguments)  # type: ignore[arg-type]


def test_custom_prices_are_stored_lowercase_in_utc_to_the_millisecond() -> None:
    price = custom_price(" GPT-4o ", input=1, output=2, effective_from=datetime(2025, 1, 1, 12, 0, 0, 123456))
    assert price.pattern == "gpt-4o"
    assert price.effective_from == datetime(2025, 1, 1, 12, 0, 0, 123000, tzinfo=timezone.utc)


def test_the_book_learns_new_names_once_and_within_a_bound() -> None:
    book = PriceBook(store=None)  # type: ignore[arg-type]  # learning never touches the store
    assert book.learn("p", ["gpt-4o", "", "gpt-4o"]) is True
    assert book.learn("p", ["gpt-4o"]) is False  # nothing new: no second read
    assert book.learn("other", ["gpt-4o"]) is True  # names are per project
    assert book.learn("p", [f"model-{i}" for i in range(MAX_NAMES_PER_PROJECT * 2)]) is True
    assert book.learn("p", ["one-more"]) is False  # full: further names read as unpriced


def test_public_surfaces() -> None:
    assert sorted(pricing.__all__) == [
        "ModelMatcher", "ModelPrice", "PriceRow", "PriceTable", "Rates", "Usage", "check_pattern", "cost_of",
        "model_name_forms", "price_of", "shipped_table", "usage_cost",
    ]  # fmt: skip
    assert sorted(collector_pricing.__all__) == [
        "ALL_TIME", "CostPlan", "CustomMatcher", "CustomPrice", "MAX_NAMES_PER_PROJECT", "ModelPricing",
        "PriceBook", "Segment", "UNSEEN_MODEL", "custom_price", "in_force", "price_book", "resolve", "timeline",
        "to_ns",
    ]  # fmt: skip
