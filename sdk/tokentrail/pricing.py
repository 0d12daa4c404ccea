"""Model prices and the cost of a call: the shipped price table, model-name matching and `cost_of`.

Pure: nothing here reads a clock or the network; the only file read is the table shipped in the
package (`tokentrail/data/prices.json`, USD per 1M tokens, several effective-dated rows per model
where prices changed). The collector derives every span's cost at read time from these same
definitions (`ModelMatcher`, `PriceRow.rates`, `usage_cost`), so a corrected table or a project's
custom price applies to spans already stored.

Usage is counted the canonical way: `input_tokens` is the whole prompt, cache reads
(`cached_input_tokens`) and cache writes (`cache_write_input_tokens`) included; `output_tokens`
includes `reasoning_tokens`. Each part is billed at its own rate; a kind without a rate of its
own is billed as plain input (cache reads and writes) or plain output (reasoning).

Model names match the table's patterns case-insensitively and anchored: a pattern matches the
whole name, or the name followed by a snapshot suffix (`gpt-4o-2024-08-06`, `claude-3-5-haiku-20241022`,
`gemini-1.5-pro-002`, `mistral-large-latest`); `*` in a pattern stands for any characters. Router
and host spellings are tried too: `openai/gpt-4o`, `models/gemini-2.0-flash`, Bedrock's
`us.anthropic.claude-3-5-sonnet-20240620-v1:0`, Vertex AI's `claude-3-5-sonnet-v2@20241022`. The most
specific pattern wins (the most literal characters; an exact match before a suffixed one).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache
from importlib import resources
from typing import Final

__all__ = [
    "ModelMatcher",
    "ModelPrice",
    "PriceRow",
    "PriceTable",
    "Rates",
    "Usage",
    "check_pattern",
    "cost_of",
    "model_name_forms",
    "price_of",
    "shipped_table",
    "usage_cost",
]

PRICE_TABLE_FILE: Final = "prices.json"
TOKENS_PER_PRICE_UNIT: Final = 1_000_000  # prices are USD per 1M tokens

# Keys of the price table file.
TABLE_VERSION: Final = "version"
TABLE_AS_OF: Final = "as_of"
TABLE_MODELS: Final = "models"
MODEL_KEY: Final = "key"
MODEL_PROVIDER: Final = "provider"
MODEL_MATCH: Final = "match"
MODEL_PRICES: Final = "prices"
MODEL_NOTES: Final = "notes"
PRICE_FROM: Final = "from"
PRICE_INPUT: Final = "input"
PRICE_OUTPUT: Final = "output"
PRICE_CACHED_INPUT: Final = "cached_input"
PRICE_CACHE_WRITE_INPUT: Final = "cache_write_input"
PRICE_REASONING: Final = "reasoning"
PRICE_SOURCE: Final = "source"
_RATE_KEYS: Final = (PRICE_INPUT, PRICE_OUTPUT, PRICE_CACHED_INPUT, PRICE_CACHE_WRITE_INPUT, PRICE_REASONING)
_ROW_KEYS: Final = frozenset({PRICE_FROM, PRICE_SOURCE, *_RATE_KEYS})
_MODEL_KEYS: Final = frozenset({MODEL_KEY, MODEL_PROVIDER, MODEL_MATCH, MODEL_PRICES, MODEL_NOTES})

MAX_RATE: Final = 100_000.0  # USD per 1M tokens; anything above is a typo
PATTERN_CHARACTERS: Final = re.compile(r"[a-z0-9._:/@+*-]{1,200}")

# Snapshot and alias suffixes a model name may carry beyond its pattern: dates (2024-08-06,
# 20241022, 0613, 2411, 08-2024, 05-20), three-digit versions (Gemini's 002), latest, preview.
# `exp` and `:free` are deliberately absent: experimental and free variants are not billed the same.
_SNAPSHOT_SUFFIX: Final = (
    r"(?:-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4}|\d{3}|\d{2}-\d{4}|\d{2}-\d{2}|latest|preview))*"
)
# Bedrock model ids: optional cross-region prefix, vendor prefix, version suffix.
_BEDROCK: Final = re.compile(
    r"(?:(?:us|eu|apac|us-gov|global|jp|au|ca)\.)?"
    r"(?:anthropic|meta|mistral|cohere|amazon|ai21|deepseek|qwen|openai|writer)\."
    r"(?P<model>.+?)(?:-v\d+(?::\d+)?|:\d+)?"
)


def _utc(moment: datetime | date) -> datetime:
    if isinstance(moment, datetime):
        return (
            moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
        )
    return datetime(moment.year, moment.month, moment.day, tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class Rates:
    """USD per 1M tokens of each kind, every kind resolved."""

    input: float
    output: float
    cached_input: float
    cache_write_input: float
    reasoning: float


@dataclass(frozen=True, slots=True)
class PriceRow:
    """A model's prices from `effective_from` (UTC) until the next row; None: billed as input/output."""

    effective_from: datetime
    input: float
    output: float
    cached_input: float | None = None
    cache_write_input: float | None = None
    reasoning: float | None = None
    source: str = ""

    @property
    def rates(self) -> Rates:
        return Rates(
            input=self.input,
            output=self.output,
            cached_input=self.input if self.cached_input is None else self.cached_input,
            cache_write_input=self.input if self.cache_write_input is None else self.cache_write_input,
            reasoning=self.output if self.reasoning is None else self.reasoning,
        )


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one call, canonical: input includes cache reads and writes, output includes reasoning."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_input_tokens: int | None = None
    cache_write_input_tokens: int | None = None
    reasoning_tokens: int | None = None


def usage_cost(usage: Usage, rates: Rates) -> float | None:
    """USD for `usage` at `rates`; None when the call reported neither input nor output tokens.

    The collector's SQL (storage/sql.py, `span_cost_usd`) computes the same expression, term by
    term in this order, so both give the same figure.
    """
    if usage.input_tokens is None and usage.output_tokens is None:
        return None
    cached = usage.cached_input_tokens or 0
    written = usage.cache_write_input_tokens or 0
    reasoning = usage.reasoning_tokens or 0
    # Counts that do not add up (more cached than input) are billed as reported, never negative.
    uncached = max((usage.input_tokens or 0) - cached - written, 0)
    plain_output = max((usage.output_tokens or 0) - reasoning, 0)
    return (
        uncached * rates.input
        + cached * rates.cached_input
        + written * rates.cache_write_input
        + plain_output * rates.output
        + reasoning * rates.reasoning
    ) / TOKENS_PER_PRICE_UNIT


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """One model (or family of spellings) of the table and its prices over time, oldest first."""

    key: str
    provider: str
    patterns: tuple[str, ...]
    prices: tuple[PriceRow, ...]
    notes: str = ""

    def price_at(self, at: datetime | date | None = None) -> PriceRow | None:
        """The row in force at `at` (None: the newest row); None before the first row."""
        if at is None:
            return self.prices[-1]
        moment = _utc(at)
        in_force = None
        for row in self.prices:
            if row.effective_from > moment:
                break
            in_force = row
        return in_force


def model_name_forms(model: str) -> tuple[str, ...]:
    """The spellings of a model name that patterns are tried on: as sent (lowercase), without a
    router or host path (`openai/`, `models/`, `accounts/fireworks/models/`), without a Vertex AI
    `@version`, and a Bedrock id without its region, vendor and version."""
    name = model.strip().lower()
    if not name:
        return ()
    forms = [name]
    tail = name.rsplit("/", 1)[-1]
    base = tail.split("@", 1)[0]
    bedrock = _BEDROCK.fullmatch(base)
    for form in (tail, base, bedrock.group("model") if bedrock else ""):
        if form and form not in forms:
            forms.append(form)
    return tuple(forms)


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    literal_parts = (re.escape(part) for part in pattern.split("*"))
    return re.compile("(?:" + ".*".join(literal_parts) + ")(" + _SNAPSHOT_SUFFIX + ")")


class ModelMatcher:
    """Names to keys by anchored patterns, the most specific pattern winning; answers are cached."""

    def __init__(self, entries: Iterable[tuple[str, Iterable[str]]]) -> None:
        self._patterns: list[tuple[re.Pattern[str], int, int, str]] = []
        for key, patterns in entries:
            for pattern in patterns:
                literal = len(pattern.replace("*", ""))
                self._patterns.append((_pattern_regex(pattern), literal, pattern.count("*"), key))
        self._answers: dict[str, str | None] = {}

    def match(self, model: str) -> str | None:
        """The key of the most specific pattern matching `model`, or None."""
        answer = self._answers.get(model, _MISSING)
        if answer is not _MISSING:
            return answer  # type: ignore[return-value]
        best: tuple[int, bool, int] | None = None
        found = None
        for form in model_name_forms(model):
            for regex, literal, wildcards, key in self._patterns:
                matched = regex.fullmatch(form)
                if matched is None:
                    continue
                score = (literal, matched.group(1) == "", -wildcards)
                if best is None or score > best:
                    best, found = score, key
        if len(self._answers) >= 100_000:  # names come from spans: bound the memory
            self._answers.clear()
        self._answers[model] = found
        return found


_MISSING = object()


@dataclass(frozen=True)
class PriceTable:
    """The price table: its version and date, and the models it prices."""

    version: str
    as_of: date
    models: tuple[ModelPrice, ...]

    def __post_init__(self) -> None:
        by_key = {model.key: model for model in self.models}
        if len(by_key) != len(self.models):
            raise ValueError("two models of the price table share a key")
        object.__setattr__(self, "_by_key", by_key)
        object.__setattr__(self, "_matcher", ModelMatcher((m.key, m.patterns) for m in self.models))

    def model(self, key: str) -> ModelPrice:
        return self._by_key[key]  # type: ignore[attr-defined,no-any-return]

    def match(self, model: str) -> ModelPrice | None:
        """The entry pricing the model named `model`, or None."""
        key = self._matcher.match(model)  # type: ignore[attr-defined]
        return None if key is None else self.model(key)

    @classmethod
    def parse(cls, data: Mapping[str, object]) -> PriceTable:
        """A table from the file's JSON object; ValueError saying where it is wrong."""
        return _parse_table(data)


def _number(value: object, where: str, *, optional: bool) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where}: expected a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or not 0 <= number <= MAX_RATE:
        raise ValueError(f"{where}: {number} is not a price within 0..{MAX_RATE:g} USD per 1M tokens")
    return number


def _object(raw: object, where: str, keys: frozenset[str]) -> Mapping[str, object]:
    """`raw` as a JSON object holding only `keys`."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: expected an object")
    unknown = set(raw) - keys
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    return raw


def _price_row(raw: object, where: str) -> PriceRow:
    raw = _object(raw, where, _ROW_KEYS)
    try:
        effective = date.fromisoformat(str(raw[PRICE_FROM]))
    except (KeyError, ValueError) as exc:
        raise ValueError(f"{where}: '{PRICE_FROM}' must be a date YYYY-MM-DD") from exc
    source = raw.get(PRICE_SOURCE)
    if not isinstance(source, str) or not source.startswith(("https://", "http://")):
        raise ValueError(f"{where}: '{PRICE_SOURCE}' must be the URL the price was read from")
    return PriceRow(
        effective_from=_utc(effective),
        input=_number(raw.get(PRICE_INPUT), f"{where}.{PRICE_INPUT}", optional=False),  # type: ignore[arg-type]
        output=_number(raw.get(PRICE_OUTPUT), f"{where}.{PRICE_OUTPUT}", optional=False),  # type: ignore[arg-type]
        cached_input=_number(raw.get(PRICE_CACHED_INPUT), f"{where}.{PRICE_CACHED_INPUT}", optional=True),
        cache_write_input=_number(
            raw.get(PRICE_CACHE_WRITE_INPUT), f"{where}.{PRICE_CACHE_WRITE_INPUT}", optional=True
        ),
        reasoning=_number(raw.get(PRICE_REASONING), f"{where}.{PRICE_REASONING}", optional=True),
        source=source,
    )


def check_pattern(pattern: object, where: str = "pattern") -> str:
    """A model-name pattern as stored: lowercase text of the characters model names use."""
    if not isinstance(pattern, str) or not PATTERN_CHARACTERS.fullmatch(pattern):
        raise ValueError(
            f"{where}: {pattern!r} is not a model pattern (1-200 of a-z 0-9 . _ : / @ + - and * for any characters)"
        )
    if pattern.replace("*", "") == "":
        raise ValueError(f"{where}: a pattern needs at least one character besides '*'")
    return pattern


def _model_price(raw: object, where: str) -> ModelPrice:
    raw = _object(raw, where, _MODEL_KEYS)
    key, provider, patterns = raw.get(MODEL_KEY), raw.get(MODEL_PROVIDER), raw.get(MODEL_MATCH)
    if not isinstance(key, str) or not key:
        raise ValueError(f"{where}: '{MODEL_KEY}' must be a non-empty string")
    where = f"{where} ({key})"
    if not isinstance(provider, str) or not provider:
        raise ValueError(f"{where}: '{MODEL_PROVIDER}' must be a non-empty string")
    if not isinstance(patterns, Sequence) or isinstance(patterns, str) or not patterns:
        raise ValueError(f"{where}: '{MODEL_MATCH}' must be a non-empty list of patterns")
    rows = raw.get(MODEL_PRICES)
    if not isinstance(rows, Sequence) or isinstance(rows, str) or not rows:
        raise ValueError(f"{where}: '{MODEL_PRICES}' must be a non-empty list")
    prices = tuple(_price_row(row, f"{where}.{MODEL_PRICES}[{i}]") for i, row in enumerate(rows))
    dates = [row.effective_from for row in prices]
    if dates != sorted(set(dates)):
        raise ValueError(f"{where}: price rows must have distinct dates, oldest first")
    notes = raw.get(MODEL_NOTES, "")
    if not isinstance(notes, str):
        raise ValueError(f"{where}: '{MODEL_NOTES}' must be text")
    return ModelPrice(
        key=key,
        provider=provider,
        patterns=tuple(check_pattern(p, f"{where}.{MODEL_MATCH}") for p in patterns),
        prices=prices,
        notes=notes,
    )


def _parse_table(data: Mapping[str, object]) -> PriceTable:
    version, as_of, models = data.get(TABLE_VERSION), data.get(TABLE_AS_OF), data.get(TABLE_MODELS)
    if not isinstance(version, str) or not version:
        raise ValueError(f"price table: '{TABLE_VERSION}' must be a non-empty string")
    try:
        table_date = date.fromisoformat(str(as_of))
    except ValueError as exc:
        raise ValueError(f"price table: '{TABLE_AS_OF}' must be a date YYYY-MM-DD") from exc
    if not isinstance(models, Sequence) or isinstance(models, str):
        raise ValueError(f"price table: '{TABLE_MODELS}' must be a list")
    return PriceTable(
        version=version,
        as_of=table_date,
        models=tuple(_model_price(raw, f"models[{i}]") for i, raw in enumerate(models)),
    )


@lru_cache(maxsize=1)
def shipped_table() -> PriceTable:
    """The price table shipped in the package, read once."""
    text = resources.files("tokentrail").joinpath("data", PRICE_TABLE_FILE).read_text(encoding="utf-8")
    return PriceTable.parse(json.loads(text))


def price_of(
    model: str, *, at: datetime | date | None = None, table: PriceTable | None = None
) -> PriceRow | None:
    """The price of `model` in force at `at` (None: the newest), from `table` (default: shipped)."""
    entry = (table or shipped_table()).match(model)
    return None if entry is None else entry.price_at(at)


def cost_of(
    model: str, usage: Usage, *, at: datetime | date | None = None, table: PriceTable | None = None
) -> float | None:
    """USD for `usage` of `model` at the price in force at `at`; None when the model has no
    price then, or the usage has no tokens. Never 0 for "unknown"."""
    row = price_of(model, at=at, table=table)
    return None if row is None else usage_cost(usage, row.rates)
