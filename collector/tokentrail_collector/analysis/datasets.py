"""Eval datasets mined from spans: items built from span rows, near-duplicate removal, sampling.

Pure logic (no store, no web): the collector's storage reads the candidate spans and their scores,
`mine()` turns them into dataset items and a report of every step (how many spans matched, how
many exact and near duplicates were removed and how, how many were sampled and how), which the
dataset keeps in its metadata.

An item keeps the span's input and output as captured (for a chat span, the JSON list of
messages; for an `@observe`d function, the JSON of its arguments or the text given), an
editable expected output (initially the output), the source trace and span ids, and metadata:
model, provider, service, kind, status, tokens, latency, cost, tags and the scores given to the
span or to its trace.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from tokentrail import semconv as sc
from tokentrail_collector.analysis.dedupe import DedupeMethod, deduplicate

# Metadata keys of an item beyond the canonical column names (tokentrail.semconv).
MODEL: Final = "model"
SCORES: Final = "scores"
SPAN_NAME: Final = "span_name"
STRATIFY_FIELDS: Final[dict[str, str]] = {
    "model": MODEL,
    "provider": sc.PROVIDER,
    "service": sc.SERVICE,
    "status": sc.STATUS_CODE,
    "kind": sc.KIND,
}
SYSTEM_ROLES: Final = frozenset({"system", "developer"})


@dataclass(frozen=True)
class NewItem:
    """A dataset item before it is stored (mined from a span, added by hand or imported)."""

    input: str
    output: str = ""
    expected_output: str | None = None  # None: the output
    metadata: Mapping[str, object] = field(default_factory=dict)
    source_trace_id: str = ""
    source_span_id: str = ""

    @property
    def expected(self) -> str:
        return self.output if self.expected_output is None else self.expected_output


@dataclass(frozen=True)
class Item(NewItem):
    """A stored item: one revision of it."""

    item_id: str = ""
    revision: int = 1
    created_at_unix_nano: int = 0


@dataclass(frozen=True)
class SampleOptions:
    """Keep `size` items: at random (`seed` makes it repeatable), or stratified by a field so
    that each value keeps its share (largest remainders), at random within each value."""

    size: int
    seed: int = 0
    stratify_by: str | None = None

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError("the sample size must be >= 1")
        if self.stratify_by is not None and self.stratify_by not in STRATIFY_FIELDS:
            raise ValueError(f"stratify_by must be one of {sorted(STRATIFY_FIELDS)}")

    def describe(self) -> dict[str, object]:
        how = f"stratified by {self.stratify_by}, proportional" if self.stratify_by else "uniform at random"
        return {"size": self.size, "seed": self.seed, "stratify_by": self.stratify_by, "method": how}


@dataclass(frozen=True)
class MiningReport:
    """What happened between the filter and the items; kept in the dataset's metadata."""

    matched: int  # spans matching the filter
    considered: int  # of those, read (the filter's limit caps it)
    exact_duplicates: int
    near_duplicates: int
    after_dedupe: int
    items: int
    dedupe: dict[str, object] | None
    sample: dict[str, object] | None

    def as_dict(self) -> dict[str, object]:
        return {
            "matched": self.matched,
            "considered": self.considered,
            "exact_duplicates": self.exact_duplicates,
            "near_duplicates": self.near_duplicates,
            "after_dedupe": self.after_dedupe,
            "items": self.items,
            "dedupe": self.dedupe,
            "sample": self.sample,
        }


# --- text of captured content ------------------------------------------------------------------


def decode_json(text: str) -> object | None:
    """The JSON value of `text`, or None when it is not JSON (plain captured text)."""
    stripped = text.strip()
    if not stripped or stripped[0] not in '[{"':
        return None
    try:
        return json.loads(stripped)
    except ValueError:
        return None


def chat_transcript(text: str) -> list[dict[str, object]] | None:
    """The messages of a JSON chat transcript (OpenTelemetry GenAI `parts` or chat-completions
    `content`), or None when `text` is not one."""
    decoded = decode_json(text)
    if not isinstance(decoded, list) or not decoded:
        return None
    for message in decoded:
        if not isinstance(message, dict) or not isinstance(message.get(sc.MESSAGE_ROLE), str):
            return None
        if sc.MESSAGE_PARTS not in message and sc.MESSAGE_CONTENT not in message:
            return None
    return decoded


def message_text(message: Mapping[str, object]) -> str:
    """The text of one message: its text parts, or its content when that is text or text blocks."""
    parts = message.get(sc.MESSAGE_PARTS)
    if isinstance(parts, list):
        return "\n".join(
            str(part.get(sc.MESSAGE_CONTENT, ""))
            for part in parts
            if isinstance(part, dict) and part.get(sc.MESSAGE_PART_TYPE) == sc.MessagePartType.TEXT.value
        )
    content = message.get(sc.MESSAGE_CONTENT)
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(block.get("text", "")) for block in content if isinstance(block, dict) and "text" in block
        )
    return ""


def plain_text(text: str, *, skip_system: bool = False) -> str:
    """Readable text of captured content: a transcript's message texts, a JSON string's value,
    an object's only string value (an `@observe`d function's one argument), else `text` itself."""
    messages = chat_transcript(text)
    if messages is not None:
        return "\n".join(
            message_text(message)
            for message in messages
            if not (skip_system and message.get(sc.MESSAGE_ROLE) in SYSTEM_ROLES)
        )
    decoded = decode_json(text)
    if isinstance(decoded, str):
        return decoded
    if isinstance(decoded, dict) and len(decoded) == 1:
        (only,) = decoded.values()
        if isinstance(only, str):
            return only
    return text


def dedupe_key(input_text: str) -> str:
    """What near-duplicate removal compares: the input's text without system instructions, which
    every call of an application shares and which say nothing about the example itself."""
    return plain_text(input_text, skip_system=True)


# --- items from spans ----------------------------------------------------------------------------


def item_from_span(span: Mapping[str, object], scores: Sequence[Mapping[str, object]] = ()) -> NewItem:
    """A dataset item from a candidate span row (canonical column names) and its scores."""
    request_model = str(span.get(sc.REQUEST_MODEL) or "")
    metadata: dict[str, object] = {
        MODEL: request_model or str(span.get(sc.RESPONSE_MODEL) or ""),
        sc.PROVIDER: span.get(sc.PROVIDER, ""),
        sc.SERVICE: span.get(sc.SERVICE, ""),
        sc.KIND: span.get(sc.KIND, ""),
        SPAN_NAME: span.get(sc.NAME, ""),
        sc.STATUS_CODE: span.get(sc.STATUS_CODE, ""),
        sc.START_TIME: span.get(sc.START_TIME),
        sc.INPUT_TOKENS: span.get(sc.INPUT_TOKENS),
        sc.OUTPUT_TOKENS: span.get(sc.OUTPUT_TOKENS),
        sc.TOTAL_TOKENS: span.get(sc.TOTAL_TOKENS),
        sc.DURATION_MS: span.get(sc.DURATION_MS),
        sc.TIME_TO_FIRST_TOKEN_MS: span.get(sc.TIME_TO_FIRST_TOKEN_MS),
        sc.COST_USD: span.get(sc.COST_USD),
        sc.TAGS: list(span.get(sc.TAGS) or ()),  # type: ignore[call-overload]
        SCORES: [dict(score) for score in scores],
    }
    output = str(span.get(sc.OUTPUT_TEXT) or "")
    return NewItem(
        input=str(span.get(sc.INPUT_TEXT) or ""),
        output=output,
        expected_output=output,
        metadata=metadata,
        source_trace_id=str(span.get(sc.TRACE_ID) or ""),
        source_span_id=str(span.get(sc.SPAN_ID) or ""),
    )


def sample_indices(strata: Sequence[str], options: SampleOptions) -> list[int]:
    """Indices of the sampled items, in their original order. `strata` holds each item's value of
    the stratifying field ('' for all when not stratified)."""
    count = len(strata)
    if options.size >= count:
        return list(range(count))
    rng = random.Random(options.seed)
    if options.stratify_by is None:
        return sorted(rng.sample(range(count), options.size))
    groups: dict[str, list[int]] = {}
    for index, value in enumerate(strata):
        groups.setdefault(value, []).append(index)
    # Proportional allocation with largest remainders (ties by value, for repeatability).
    exact = {value: options.size * len(members) / count for value, members in groups.items()}
    quotas = {value: int(share) for value, share in exact.items()}
    left = options.size - sum(quotas.values())
    for value in sorted(exact, key=lambda v: (-(exact[v] - quotas[v]), v))[:left]:
        quotas[value] += 1
    chosen: list[int] = []
    for value in sorted(groups):
        chosen.extend(rng.sample(groups[value], quotas[value]))
    return sorted(chosen)


def mine(
    spans: Sequence[Mapping[str, object]],
    scores: Mapping[tuple[str, str], Sequence[Mapping[str, object]]],
    *,
    matched: int,
    dedupe: DedupeMethod | None,
    sample: SampleOptions | None,
) -> tuple[list[NewItem], MiningReport]:
    """Items from candidate spans (oldest first): duplicates removed, then sampled.

    `scores` maps (trace id, span id) to the scores of that span, and (trace id, "") to those
    of the whole trace; an item's metadata gets both.
    """
    items = [
        item_from_span(
            span,
            [
                *scores.get((str(span[sc.TRACE_ID]), str(span[sc.SPAN_ID])), ()),
                *scores.get((str(span[sc.TRACE_ID]), ""), ()),
            ],
        )
        for span in spans
    ]
    exact = near = 0
    if dedupe is not None:
        result = deduplicate([dedupe_key(item.input) for item in items], dedupe)
        exact, near = len(result.exact), len(result.near)
        items = [items[index] for index in result.kept]
    after_dedupe = len(items)
    if sample is not None:
        field_name = STRATIFY_FIELDS.get(sample.stratify_by or "", "")
        strata = [str(item.metadata.get(field_name, "")) if field_name else "" for item in items]
        items = [items[index] for index in sample_indices(strata, sample)]
    report = MiningReport(
        matched=matched,
        considered=len(spans),
        exact_duplicates=exact,
        near_duplicates=near,
        after_dedupe=after_dedupe,
        items=len(items),
        dedupe=dedupe.describe() if dedupe is not None else None,
        sample=sample.describe() if sample is not None else None,
    )
    return items, report
