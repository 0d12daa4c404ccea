# ruff: noqa: F811 - the instrumentation tests' fixtures, imported by name for this module only
"""From the provider's usage to the price: the real openai and anthropic clients against the fake
provider, tokentrail's instrumentation, OTLP, the collector's normaliser, and the cost plan.

Checks the one thing the price table relies on: the canonical row counts the whole prompt as
`input_tokens` (cache reads and writes included) and reasoning inside `output_tokens`, whatever
each provider's own usage object says.
"""

from __future__ import annotations

from datetime import datetime, timezone

import anthropic
import openai
import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

from tests.instrumentation.conftest import (  # noqa: F401 - fixtures
    anthropic_client,
    fresh_provider,
    instrumented,
    openai_client,
    provider,
    spans_end_once,
    uninstrument_after,
)
from tests.instrumentation.helpers import ANTHROPIC_QUESTION, QUESTION, Finished, Reply, llm_spans
from tests.instrumentation.helpers import Usage as ProviderUsage
from tests.sdk.conftest import clean_tokentrail, exporter, internal_errors, traced  # noqa: F401 - fixtures
from tokentrail import semconv as sc
from tokentrail.pricing import Usage, shipped_table, usage_cost
from tokentrail_collector.normalise import normalise_traces
from tokentrail_collector.pricing import CostPlan

pytestmark = pytest.mark.usefixtures("instrumented")


def row_cost(finished: Finished) -> tuple[dict[str, object], float | None]:
    """The normalised row of the one LLM span, and its cost as the collector derives it."""
    [span] = llm_spans(finished())
    [row] = normalise_traces(encode_spans([span]), project_id="p").rows
    model = str(row[sc.RESPONSE_MODEL])
    start_ns = int(row[sc.START_TIME])  # type: ignore[call-overload]
    segment = CostPlan.build([model], shipped_table(), ()).segment_at(model, model, start_ns)
    counts = (sc.INPUT_TOKENS, sc.OUTPUT_TOKENS, sc.CACHED_INPUT_TOKENS, sc.CACHE_WRITE_INPUT_TOKENS,
              sc.REASONING_TOKENS)  # fmt: skip
    usage = Usage(*(row[column] for column in counts))  # type: ignore[arg-type]
    return row, None if segment is None else usage_cost(usage, segment.rates)


def test_openai_prompt_tokens_include_cached_and_reasoning_is_output(
    provider: object,
    openai_client: openai.OpenAI,
    traced: Finished,
) -> None:
    # prompt_tokens=1000 with cached_tokens=400; completion_tokens=300 with reasoning_tokens=200.
    usage = ProviderUsage(input_tokens=1000, output_tokens=300, cached_tokens=400, reasoning_tokens=200)
    provider.script(Reply(usage=usage))  # type: ignore[attr-defined]
    openai_client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)  # type: ignore[arg-type]
    row, cost = row_cost(traced)
    assert (row[sc.INPUT_TOKENS], row[sc.CACHED_INPUT_TOKENS], row[sc.OUTPUT_TOKENS], row[sc.REASONING_TOKENS]) == (
        1000, 400, 300, 200)  # fmt: skip
    assert datetime.fromtimestamp(int(row[sc.START_TIME]) / 1e9, tz=timezone.utc).year >= 2026  # type: ignore[call-overload]
    assert cost == pytest.approx((600 * 0.15 + 400 * 0.075 + 300 * 0.60) / 1e6)


def test_anthropic_cache_reads_and_writes_are_part_of_the_input_and_priced_apart(
    provider: object,
    anthropic_client: anthropic.Anthropic,
    traced: Finished,
) -> None:
    # Anthropic sends input_tokens=50 (the uncached rest), cache_read_input_tokens=80,
    # cache_creation_input_tokens=20.
    usage = ProviderUsage(input_tokens=150, output_tokens=40, cached_tokens=80, cache_creation_tokens=20)
    provider.script(Reply(usage=usage))  # type: ignore[attr-defined]
    anthropic_client.messages.create(model="claude-sonnet-4-6", max_tokens=100, messages=ANTHROPIC_QUESTION)  # type: ignore[arg-type]
    row, cost = row_cost(traced)
    assert (row[sc.INPUT_TOKENS], row[sc.CACHED_INPUT_TOKENS], row[sc.CACHE_WRITE_INPUT_TOKENS]) == (
        150,
        80,
        20,
    )
    # claude-sonnet-4-6: $3 input, $0.30 cache read, $3.75 cache write, $15 output per 1M tokens.
    assert cost == pytest.approx((50 * 3 + 80 * 0.30 + 20 * 3.75 + 40 * 15) / 1e6)
