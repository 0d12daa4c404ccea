"""`cost_of` and `usage_cost`: each kind of token at its own rate, the price in force at the call's
time, and no cost (None, never 0) without a price or without tokens."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokentrail.pricing import PriceRow, Rates, Usage, cost_of, price_of, shipped_table, usage_cost

AT = datetime(2026, 6, 1, tzinfo=timezone.utc)


def test_openai_shape_cached_tokens_are_part_of_the_prompt_and_reasoning_part_of_the_completion() -> None:
    # OpenAI reports prompt_tokens=1000 of which cached_tokens=400, completion_tokens=300 of which
    # reasoning_tokens=200; the instrumentation sends them as they are (canonical counts).
    usage = Usage(input_tokens=1000, output_tokens=300, cached_input_tokens=400, reasoning_tokens=200)
    # gpt-4o-mini: $0.15 input, $0.075 cached input, $0.60 output per 1M tokens.
    assert cost_of("gpt-4o-mini", usage, at=AT) == pytest.approx(
        (600 * 0.15 + 400 * 0.075 + 300 * 0.60) / 1e6
    )
    # o3 from 2025-06-10: $2 input, $0.50 cached, $8 output; reasoning is billed as output.
    assert cost_of("o3-2025-04-16", usage, at=AT) == pytest.approx((600 * 2 + 400 * 0.5 + 300 * 8) / 1e6)


def test_anthropic_shape_cache_reads_and_writes_have_their_own_rates() -> None:
    # Anthropic reports input_tokens=50 (uncached), cache_read_input_tokens=80,
    # cache_creation_input_tokens=20: the canonical input is the whole prompt, 150.
    usage = Usage(input_tokens=150, output_tokens=40, cached_input_tokens=80, cache_write_input_tokens=20)
    # claude-3-5-sonnet: $3 input, $0.30 cache read, $3.75 cache write, $15 output.
    expected = (50 * 3 + 80 * 0.30 + 20 * 3.75 + 40 * 15) / 1e6
    assert cost_of("claude-3-5-sonnet-20241022", usage, at=AT) == pytest.approx(expected)
    assert cost_of("us.anthropic.claude-3-5-sonnet-20241022-v2:0", usage, at=AT) == pytest.approx(expected)
    # claude-haiku-4-5: $1, $0.10, $1.25, $5; extended thinking is output.
    thinking = Usage(input_tokens=150, output_tokens=40, cached_input_tokens=80, cache_write_input_tokens=20,
                     reasoning_tokens=9)  # fmt: skip
    assert cost_of("claude-haiku-4-5", thinking, at=AT) == pytest.approx((50 + 8 + 25 + 40 * 5) / 1e6)


@pytest.mark.parametrize(
    ("model", "at", "input_rate", "output_rate"),
    [
        ("gpt-4o", date(2024, 6, 1), 5.0, 15.0),
        ("gpt-4o", date(2024, 10, 1), 5.0, 15.0),
        ("gpt-4o", date(2024, 10, 2), 2.5, 10.0),
        ("o3", datetime(2025, 6, 9, 23, 59, tzinfo=timezone.utc), 10.0, 40.0),
        ("o3", date(2025, 6, 10), 2.0, 8.0),
        ("deepseek-chat", date(2025, 1, 15), 0.14, 0.28),
        ("deepseek-chat", date(2025, 3, 1), 0.27, 1.1),
        ("deepseek-chat", date(2025, 10, 1), 0.28, 0.42),
        ("mistral-large-latest", date(2024, 8, 1), 3.0, 9.0),
        ("mistral-large-latest", date(2024, 12, 1), 2.0, 6.0),
    ],
)
def test_the_price_in_force_at_the_calls_time_applies(
    model: str, at: date, input_rate: float, output_rate: float
) -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert cost_of(model, usage, at=at) == pytest.approx(input_rate + output_rate)


def test_before_a_models_first_price_there_is_none() -> None:
    assert price_of("gpt-4o", at=date(2024, 5, 12)) is None
    assert cost_of("gpt-4o", Usage(10, 10), at=date(2024, 5, 12)) is None
    assert price_of("gpt-4o") == shipped_table().match("gpt-4o").prices[-1]  # type: ignore[union-attr]


def test_no_tokens_no_cost_but_zero_tokens_cost_zero() -> None:
    assert cost_of("gpt-4o", Usage(), at=AT) is None
    assert cost_of("gpt-4o", Usage(cached_input_tokens=5), at=AT) is None
    assert cost_of("gpt-4o", Usage(input_tokens=0, output_tokens=0), at=AT) == 0.0
    assert cost_of("gpt-4o", Usage(output_tokens=1_000_000), at=AT) == pytest.approx(10.0)


def test_rates_default_to_input_and_output() -> None:
    row = PriceRow(effective_from=AT, input=2.0, output=8.0)
    assert row.rates == Rates(input=2.0, output=8.0, cached_input=2.0, cache_write_input=2.0, reasoning=8.0)


counts = st.integers(min_value=0, max_value=10**9)
optional_counts = st.none() | counts
rates = st.builds(
    Rates, *(st.floats(min_value=0, max_value=1000, allow_nan=False, allow_infinity=False) for _ in range(5))
)
usages = st.builds(Usage, optional_counts, optional_counts, optional_counts, optional_counts, optional_counts)


@given(usage=usages, rates=rates)
def test_a_cost_is_never_negative_and_none_only_without_tokens(usage: Usage, rates: Rates) -> None:
    cost = usage_cost(usage, rates)
    if usage.input_tokens is None and usage.output_tokens is None:
        assert cost is None
    else:
        assert cost is not None and cost >= 0


@given(usage=usages, rates=rates, factor=st.integers(min_value=1, max_value=1000))
def test_cost_scales_with_usage(usage: Usage, rates: Rates, factor: int) -> None:
    scaled = Usage(*(None if count is None else count * factor for count in (
        usage.input_tokens, usage.output_tokens, usage.cached_input_tokens, usage.cache_write_input_tokens,
        usage.reasoning_tokens)))  # fmt: skip
    cost, scaled_cost = usage_cost(usage, rates), usage_cost(scaled, rates)
    assert (cost is None) == (scaled_cost is None)
    if cost is not None:
        assert scaled_cost == pytest.approx(cost * factor, rel=1e-9, abs=1e-12)


@given(total=counts, cached=counts, output=counts, rates=rates)
def test_cached_input_never_costs_more_than_plain_input_when_its_rate_is_lower(
    total: int, cached: int, output: int, rates: Rates
) -> None:
    cached = min(cached, total)
    plain = usage_cost(Usage(input_tokens=total, output_tokens=output), rates)
    with_cache = usage_cost(
        Usage(input_tokens=total, output_tokens=output, cached_input_tokens=cached), rates
    )
    assert plain is not None and with_cache is not None
    if rates.cached_input <= rates.input:
        assert with_cache <= plain * (1 + 1e-12) + 1e-12
    assert with_cache == pytest.approx(plain + cached * (rates.cached_input - rates.input) / 1e6, abs=1e-6)
