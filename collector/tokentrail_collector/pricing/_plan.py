"""Prices over time per model name, and the parameters that let the cost SQL apply them.

Pure: from the shipped table, a project's custom prices and the model names the project has
used, `CostPlan.build` works out which price is in force for each name at any time, and encodes it
as array parameters of the statements in `storage/sql.py` (`COST_WITH`):

- each name gets the id of its price timeline (`price_names` -> `price_ids`; 0: no price);
- times are cut into eras by the dates where any of those timelines changes (`price_bounds`);
- (id, era) -> the rates in force (`price_keys` -> `price_input` ... and `price_sources`).

So each span row costs a few hash lookups instead of a join. `CostPlan.segment_at` answers the
same question in Python, which is what the tests compare the encoding with.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Final

from tokentrail.pricing import ModelMatcher, ModelPrice, PriceRow, PriceTable, Rates
from tokentrail.semconv import CostSource

# Id of a name the plan was not built with: the statement reports such names so that the reader
# can learn them and ask again (see PriceBook).
UNSEEN_MODEL: Final = 2**32 - 1
# A key no (id, era) produces: keeps the key arrays non-empty.
_NO_KEY: Final = 2**64 - 1
_NEVER: Final = 2**63 - 1  # a time no span reaches
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def to_ns(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


@dataclass(frozen=True, slots=True)
class CustomPrice:
    """A project's own price for the models matching `pattern`: `row`, whose source is the note."""

    pattern: str
    row: PriceRow

    @property
    def effective_from(self) -> datetime:
        return self.row.effective_from

    @property
    def note(self) -> str:
        return self.row.source


@dataclass(frozen=True, slots=True)
class Segment:
    """Rates in force from `start_ns` until the next segment of the same timeline."""

    start_ns: int
    rates: Rates
    source: CostSource


def timeline(shipped: ModelPrice | None, custom: Sequence[CustomPrice]) -> tuple[Segment, ...]:
    """A name's prices over time: the shipped rows until its first custom price, then the custom
    rows. A custom price wins from its date on, also over later changes of the shipped table."""
    ordered = sorted(custom, key=lambda price: price.effective_from)
    first_custom = ordered[0].effective_from if ordered else None
    segments = [
        Segment(to_ns(row.effective_from), row.rates, CostSource.PRICE_TABLE)
        for row in (shipped.prices if shipped is not None else ())
        if first_custom is None or row.effective_from < first_custom
    ]
    segments.extend(
        Segment(to_ns(price.effective_from), price.row.rates, CostSource.CUSTOM_PRICE) for price in ordered
    )
    return tuple(segments)


def in_force(segments: Sequence[Segment], at_ns: int) -> Segment | None:
    """The segment in force at `at_ns`; None before the first one."""
    in_force_now = None
    for segment in segments:
        if segment.start_ns > at_ns:
            break
        in_force_now = segment
    return in_force_now


class CustomMatcher:
    """A project's custom prices by pattern, matched like the shipped table's patterns."""

    def __init__(self, prices: Iterable[CustomPrice]) -> None:
        self.by_pattern: dict[str, list[CustomPrice]] = {}
        for price in prices:
            self.by_pattern.setdefault(price.pattern, []).append(price)
        self._matcher = ModelMatcher((pattern, (pattern,)) for pattern in self.by_pattern)

    def prices_for(self, model: str) -> tuple[str | None, Sequence[CustomPrice]]:
        pattern = self._matcher.match(model) if self.by_pattern else None
        return pattern, (self.by_pattern[pattern] if pattern is not None else ())


@dataclass(frozen=True, slots=True)
class ModelPricing:
    """What prices one model name: its shipped entry, its custom pattern, and the timeline of both."""

    model: str
    shipped: ModelPrice | None
    custom_pattern: str | None
    segments: tuple[Segment, ...]


def resolve(model: str, table: PriceTable, custom: CustomMatcher) -> ModelPricing:
    """How the model named `model` is priced over time."""
    shipped = table.match(model) if model else None
    pattern, prices = custom.prices_for(model) if model else (None, ())
    return ModelPricing(model, shipped, pattern, timeline(shipped, prices))


@dataclass(frozen=True)
class CostPlan:
    """The cost statements' parameters for a set of model names (see the module docstring)."""

    names: tuple[str, ...]
    ids: tuple[int, ...]
    timelines: tuple[tuple[Segment, ...], ...]  # by id - 1
    bounds: tuple[int, ...]

    @classmethod
    def build(cls, names: Iterable[str], table: PriceTable, custom: Iterable[CustomPrice]) -> CostPlan:
        matcher = CustomMatcher(custom)
        # Names sharing a (shipped entry, custom pattern) share a timeline.
        ids_by_source: dict[tuple[str | None, str | None], int] = {}
        timelines: list[tuple[Segment, ...]] = []
        all_names = sorted({"", *names})
        ids = []
        for name in all_names:
            pricing = resolve(name, table, matcher)
            if not pricing.segments:
                ids.append(0)
                continue
            source = (pricing.shipped.key if pricing.shipped is not None else None, pricing.custom_pattern)
            if source not in ids_by_source:
                timelines.append(pricing.segments)
                ids_by_source[source] = len(timelines)
            ids.append(ids_by_source[source])
        bounds = sorted({segment.start_ns for line in timelines for segment in line})
        return cls(names=tuple(all_names), ids=tuple(ids), timelines=tuple(timelines), bounds=tuple(bounds))

    @property
    def eras(self) -> int:
        return len(self.bounds) + 1

    def era(self, at_ns: int) -> int:
        """How many bounds are at or before `at_ns`: what the statement's arrayCount computes."""
        return bisect.bisect_right(self.bounds, at_ns)

    def segment_at(self, response_model: str, request_model: str, at_ns: int) -> Segment | None:
        """The segment the statement applies to a span: the response model's price, else the request
        model's; the segment in force at the start of the span's era."""
        price_id = self._id(response_model)
        if price_id == 0:
            price_id = self._id(request_model)
        if price_id in (0, UNSEEN_MODEL):
            return None
        era = self.era(at_ns)
        return None if era == 0 else in_force(self.timelines[price_id - 1], self.bounds[era - 1])

    def _id(self, name: str) -> int:
        index = bisect.bisect_left(self.names, name)
        found = index < len(self.names) and self.names[index] == name
        return self.ids[index] if found else UNSEEN_MODEL

    def parameters(self) -> dict[str, object]:
        """The server-side parameters of `storage.sql.COST_WITH`."""
        keys: list[int] = [_NO_KEY]
        rates: dict[str, list[float]] = {kind: [math.nan] for kind in _RATE_PARAMETERS}
        sources = [CostSource.UNKNOWN.value]
        for price_id, line in enumerate(self.timelines, start=1):
            for era in range(1, self.eras):
                segment = in_force(line, self.bounds[era - 1])
                if segment is None:
                    continue
                keys.append(price_id * self.eras + era)
                for kind, values in rates.items():
                    values.append(getattr(segment.rates, _RATE_PARAMETERS[kind]))
                sources.append(segment.source.value)
        return {
            "price_names": list(self.names),
            "price_ids": list(self.ids),
            "price_unseen": UNSEEN_MODEL,
            "price_bounds": list(self.bounds),
            "price_last_bound": self.bounds[-1] if self.bounds else _NEVER,
            "price_eras": self.eras,
            "price_keys": keys,
            **rates,
            "price_sources": sources,
        }


# Parameter name -> Rates field.
_RATE_PARAMETERS: Final = {
    "price_input": "input",
    "price_output": "output",
    "price_cached_input": "cached_input",
    "price_cache_write_input": "cache_write_input",
    "price_reasoning": "reasoning",
}
