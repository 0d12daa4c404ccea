"""The shipped price table: well formed, dated, covering the providers users call, and model names
matched to the right entry (anchored patterns, the most specific winning, host spellings)."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokentrail import pricing
from tokentrail.pricing import ModelMatcher, PriceTable, model_name_forms, shipped_table

TABLE = shipped_table()


def test_the_table_says_its_version_and_date_and_loads_from_the_package() -> None:
    raw = json.loads(resources.files("tokentrail").joinpath("data", "prices.json").read_text())
    assert raw["currency"] == "USD" and raw["unit"] == "per 1M tokens"
    assert TABLE.version == raw["version"]
    assert TABLE.as_of == date(2026, 11, 23)
    assert len(TABLE.models) >= 100


@pytest.mark.parametrize(
    "provider", ["openai", "anthropic", "google", "mistral", "deepseek", "xai", "cohere", "alibaba",
                 "groq", "together", "aws-bedrock", "fireworks", "meta"],
)  # fmt: skip
def test_the_table_covers_the_providers_users_call(provider: str) -> None:
    assert any(model.provider == provider for model in TABLE.models)


def test_every_row_is_dated_sourced_and_plausible() -> None:
    for model in TABLE.models:
        dates = [row.effective_from for row in model.prices]
        assert dates == sorted(set(dates)), model.key
        for row in model.prices:
            assert row.source.startswith("https://"), model.key
            assert row.effective_from.tzinfo is timezone.utc
            assert (
                datetime(2022, 1, 1, tzinfo=timezone.utc)
                <= row.effective_from
                <= datetime(2026, 11, 23, tzinfo=timezone.utc)
            ), model.key
            rates = row.rates
            # Cache reads are a discount on input, never a surcharge.
            assert rates.cached_input <= rates.input, model.key
            assert rates.cache_write_input >= rates.cached_input, model.key
            assert rates.input > 0, model.key


def test_patterns_are_unique_and_each_matches_its_own_entry() -> None:
    owners: dict[str, str] = {}
    for model in TABLE.models:
        for pattern in model.patterns:
            assert pattern not in owners, f"{pattern} in {owners.get(pattern)} and {model.key}"
            owners[pattern] = model.key
    for pattern, key in owners.items():
        if "*" not in pattern:
            assert TABLE.match(pattern).key == key, pattern  # type: ignore[union-attr]


def test_several_dated_rows_where_prices_changed() -> None:
    assert len(TABLE.match("gpt-4o").prices) >= 2  # type: ignore[union-attr]
    assert len(TABLE.match("o3").prices) >= 2  # type: ignore[union-attr]
    assert len(TABLE.match("deepseek-chat").prices) >= 3  # type: ignore[union-attr]
    assert sum(len(model.prices) > 1 for model in TABLE.models) >= 20


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("gpt-4o", "openai/gpt-4o"),
        ("GPT-4o", "openai/gpt-4o"),
        ("openai/gpt-4o", "openai/gpt-4o"),
        ("gpt-4o-2024-11-20", "openai/gpt-4o"),  # a snapshot suffix
        ("gpt-4o-2024-05-13", "openai/gpt-4o-2024-05-13"),  # its own, dearer, entry wins
        ("gpt-4o-mini-2024-07-18", "openai/gpt-4o-mini"),  # not gpt-4o
        ("gpt-4-1106-preview", "openai/gpt-4-turbo"),  # not gpt-4
        ("gpt-4-0613", "openai/gpt-4"),
        ("o1-mini-2024-09-12", "openai/o1-mini"),
        ("claude-3-5-sonnet-20240620", "anthropic/claude-3-5-sonnet"),
        ("anthropic.claude-3-5-sonnet-20240620-v1:0", "anthropic/claude-3-5-sonnet"),  # Bedrock
        ("us.anthropic.claude-3-5-sonnet-20241022-v2:0", "anthropic/claude-3-5-sonnet"),  # cross-region
        ("claude-3-5-sonnet-v2@20241022", "anthropic/claude-3-5-sonnet"),  # Vertex AI
        ("claude-sonnet-4-20250514", "anthropic/claude-sonnet-4"),
        ("claude-sonnet-4-5-20250929", "anthropic/claude-sonnet-4-5"),  # not claude-sonnet-4
        ("anthropic/claude-3.5-sonnet", "anthropic/claude-3-5-sonnet"),  # a router's spelling
        ("models/gemini-2.0-flash", "google/gemini-2.0-flash"),
        ("publishers/google/models/gemini-1.5-pro-002", "google/gemini-1.5-pro"),
        ("gemini-2.5-flash-preview-05-20", "google/gemini-2.5-flash"),
        ("gemini-2.5-flash-lite", "google/gemini-2.5-flash-lite"),
        ("mistral-large-2411", "mistral/mistral-large"),
        ("mistral-medium-latest", "mistral/mistral-medium-3"),
        ("deepseek-reasoner", "deepseek/deepseek-reasoner"),
        ("grok-4-0709", "xai/grok-4"),
        ("command-r-plus-08-2024", "cohere/command-r-plus-08-2024"),
        ("command-a-03-2025", "cohere/command-a"),
        ("qwen-max", "alibaba/qwen-max"),
        ("meta-llama/Llama-3.3-70B-Instruct-Turbo", "together/llama-3.3-70b-instruct-turbo"),
        # Meta's own Llama API names; a host's path keeps the host's entry.
        ("Llama-4-Maverick-17B-128E-Instruct-FP8", "meta/llama-4-maverick"),
        ("meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8", "together/llama-4-maverick"),
        ("Llama-4-Scout-17B-16E-Instruct-FP8", "meta/llama-4-scout"),
        ("meta-llama/Llama-4-Scout-17B-16E-Instruct", "together/llama-4-scout"),
        ("Llama-3.3-70B-Instruct", "meta/llama-3.3-70b-instruct"),
        ("Llama-3.3-8B-Instruct", "meta/llama-3.3-8b-instruct"),
        ("llama-3.3-70b-versatile", "groq/llama-3.3-70b-versatile"),
        ("us.meta.llama3-3-70b-instruct-v1:0", "aws-bedrock/llama3-3-70b-instruct"),
        ("accounts/fireworks/models/llama-v3p1-8b-instruct", "fireworks/llama-v3p1-8b-instruct"),
        ("amazon.nova-pro-v1:0", "aws-bedrock/nova-pro"),
        ("text-embedding-3-small", "openai/text-embedding-3-small"),
    ],
)
def test_model_names_match_the_right_entry(name: str, key: str) -> None:
    entry = TABLE.match(name)
    assert entry is not None and entry.key == key


@pytest.mark.parametrize(
    "name",
    [
        "", "claude", "gpt", "my-finetune", "gpt-4o-realtime-preview", "gemini-2.0-flash-exp",
        "deepseek/deepseek-r1:free", "ft:gpt-4o-mini:acme::abc123", "llama3.1:8b", "xgpt-4o", "gpt-4o-x",
    ],
)  # fmt: skip
def test_names_without_a_price_stay_unknown(name: str) -> None:
    assert TABLE.match(name) is None
    assert pricing.cost_of(name, pricing.Usage(1000, 100)) is None


def test_name_forms() -> None:
    assert model_name_forms(" OpenAI/GPT-4o ") == ("openai/gpt-4o", "gpt-4o")
    assert model_name_forms("claude-3-5-sonnet-v2@20241022") == (
        "claude-3-5-sonnet-v2@20241022",
        "claude-3-5-sonnet-v2",
    )
    assert model_name_forms("eu.anthropic.claude-3-haiku-20240307-v1:0")[-1] == "claude-3-haiku-20240307"
    assert model_name_forms("   ") == ()


_LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.", min_size=1, max_size=12)


@given(key=_LABEL, prefix=st.sampled_from(["", "openrouter/", "models/", "acme/"]),
       suffix=st.sampled_from(["", "-2024-08-06", "-20241022", "-0613", "-latest", "-002", "-preview"]))  # fmt: skip
def test_a_pattern_matches_its_name_with_host_prefixes_and_snapshot_suffixes(
    key: str, prefix: str, suffix: str
) -> None:
    matcher = ModelMatcher([(key, [key]), ("other", ["zzz-other"])])
    assert matcher.match(prefix + key + suffix) == key
    assert matcher.match(key.upper()) == key


@given(base=_LABEL, extra=_LABEL)
def test_the_most_specific_pattern_wins_whatever_the_order(base: str, extra: str) -> None:
    longer = f"{base}-{extra}"
    for entries in ([("base", [base]), ("longer", [longer])], [("longer", [longer]), ("base", [base])]):
        matcher = ModelMatcher(entries)
        assert matcher.match(longer) == "longer"
        assert matcher.match(base) == "base"


@given(name=st.text(max_size=30))
def test_patterns_are_anchored(name: str) -> None:
    matcher = ModelMatcher([("gpt", ["gpt-4o"])])
    found = matcher.match(name)
    forms = model_name_forms(name)
    assert found is None or any(form.startswith("gpt-4o") for form in forms)
    assert matcher.match("x" + name + "gpt-4o-y") is None


def test_wildcards_match_any_characters_and_lose_to_literal_patterns() -> None:
    matcher = ModelMatcher([("family", ["acme-*-chat"]), ("exact", ["acme-large-chat"])])
    assert matcher.match("acme-small-chat") == "family"
    assert matcher.match("acme-large-chat") == "exact"
    assert matcher.match("acme-small-chat-2") is None


@pytest.mark.parametrize(
    ("mutation", "message"),
    [
        ({"version": ""}, "version"),
        ({"as_of": "yesterday"}, "as_of"),
        ({"models": [{"key": "a", "provider": "p", "match": ["A"], "prices": [
            {"from": "2024-01-01", "input": 1, "output": 1, "source": "https://x"}]}]}, "not a model pattern"),
        ({"models": [{"key": "a", "provider": "p", "match": ["a"], "prices": []}]}, "non-empty list"),
        ({"models": [{"key": "a", "provider": "p", "match": ["a"], "prices": [{"from": "2024-01-01", "input": -1,
                                                                              "output": 1, "source": "https://x"}]}]},
         "input"),
        ({"models": [{"key": "a", "provider": "p", "match": ["a"], "prices": [{"from": "2024-01-01", "input": 1,
                                                                              "output": 1}]}]}, "source"),
        ({"models": [{"key": "a", "provider": "p", "match": ["a"], "prices": [
            {"from": "2024-02-01", "input": 1, "output": 1, "source": "https://x"},
            {"from": "2024-01-01", "input": 1, "output": 1, "source": "https://x"}]}]}, "oldest first"),
        ({"models": [{"key": "a", "provider": "p", "match": ["a"], "prices": [
            {"from": "2024-01-01", "input": 1, "output": 1, "source": "https://x", "typo": 1}]}]}, "unknown keys"),
    ],
)  # fmt: skip
def test_a_broken_table_is_refused_saying_where(mutation: dict[str, object], message: str) -> None:
    raw = {"version": "t", "as_of": "2026-01-01", "models": []} | mutation
    with pytest.raises(ValueError, match=message):
        PriceTable.parse(raw)
