"""A store's prices: the shipped table, each project's custom prices and the model names it uses.

Custom prices live in the `custom_prices` table (migration 0004), so every collector on a
ClickHouse server sees them; each process keeps them for a short while (and forgets them at once
when it changes them itself). The model names a project uses are learnt from the reads: a cost
statement reports the names its plan did not know, the book learns them, and the read is run
again, so a new model costs one extra query the first time it is read.
"""

from __future__ import annotations

import math
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Final

from tokentrail import semconv as sc
from tokentrail.pricing import MAX_RATE, PriceRow, PriceTable, Usage, check_pattern, shipped_table, usage_cost
from tokentrail.semconv import CostSource
from tokentrail_collector.pricing._plan import CostPlan, CustomPrice
from tokentrail_collector.storage import sql
from tokentrail_collector.storage.store import Store
from tokentrail_collector.storage.validation import validate_project_id

MAX_NOTE_CHARS: Final = 500
# Model names remembered per project; names beyond it are read as unpriced rather than growing
# every statement's parameters without bound.
MAX_NAMES_PER_PROJECT: Final = 2000
ALL_TIME: Final = datetime(1970, 1, 1, tzinfo=timezone.utc)
# The canonical columns of a span's usage, in tokentrail.pricing.Usage's order.
_USAGE: Final = (
    sc.INPUT_TOKENS, sc.OUTPUT_TOKENS, sc.CACHED_INPUT_TOKENS, sc.CACHE_WRITE_INPUT_TOKENS, sc.REASONING_TOKENS,
)  # fmt: skip
# The rate columns of a custom price, in the table's order (sql.CUSTOM_PRICES_COLUMNS).
_RATES: Final = ("input", "output", "cached_input", "cache_write_input", "reasoning")


def custom_price(
    pattern: str,
    *,
    input: float,  # noqa: A002 - the price table's own word
    output: float,
    effective_from: datetime | date | None = None,
    cached_input: float | None = None,
    cache_write_input: float | None = None,
    reasoning: float | None = None,
    note: str = "",
) -> CustomPrice:
    """A checked custom price (ValueError saying what is wrong); USD per 1M tokens, from
    `effective_from` (UTC; None: for all time). Patterns are stored lowercase."""
    pattern = check_pattern(pattern.strip().lower() if isinstance(pattern, str) else pattern)
    rates = dict(zip(_RATES, (input, output, cached_input, cache_write_input, reasoning), strict=True))
    for name, value in rates.items():
        if value is None and name not in ("input", "output"):
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{name} must be a number of USD per 1M tokens")
        if not 0 <= value <= MAX_RATE:
            raise ValueError(f"{name} must be within 0..{MAX_RATE:g} USD per 1M tokens")
    if not isinstance(note, str) or len(note) > MAX_NOTE_CHARS:
        raise ValueError(f"note must be text of at most {MAX_NOTE_CHARS} characters")
    return CustomPrice(pattern, _row(_moment(effective_from), {**rates, "source": note}))


def _row(effective_from: datetime, values: dict[str, object]) -> PriceRow:
    """A price row from the rate columns (and `source`) of a custom price."""
    rates = {name: None if values[name] is None else float(values[name]) for name in _RATES}  # type: ignore[arg-type]
    return PriceRow(effective_from=effective_from, source=str(values["source"]), **rates)  # type: ignore[arg-type]


def _moment(value: datetime | date | None) -> datetime:
    """UTC, to the millisecond the table keeps; within the years the store can hold."""
    if value is None:
        return ALL_TIME
    if isinstance(value, datetime):
        moment = (
            value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
        )
    else:
        moment = datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    if not ALL_TIME <= moment < datetime(2262, 1, 1, tzinfo=timezone.utc):
        raise ValueError("effective_from must be between 1970 and 2262")
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@dataclass
class _Cached:
    prices: tuple[CustomPrice, ...]
    expires: float


class PriceBook:
    """Prices for the cost statements of one store (see the module docstring)."""

    def __init__(self, store: Store, table: PriceTable | None = None, *, cache_ttl_s: float = 2.0) -> None:
        self._store = store
        self.table = table or shipped_table()
        self._ttl_s = cache_ttl_s
        self._lock = threading.Lock()
        self._custom: dict[str, _Cached] = {}
        self._names: dict[str, set[str]] = {}
        self._plans: dict[str, tuple[frozenset[str], tuple[CustomPrice, ...], CostPlan]] = {}

    # --- custom prices --------------------------------------------------------------------------

    def custom_prices(self, project_id: str) -> tuple[CustomPrice, ...]:
        """The project's custom prices, by pattern and date."""
        now = time.monotonic()
        with self._lock:
            cached = self._custom.get(project_id)
        if cached is not None and cached.expires > now:
            return cached.prices
        result = self._store.query(
            sql.CUSTOM_PRICES_OF_PROJECT, {"project_id": validate_project_id(project_id)}
        )
        prices = tuple(
            CustomPrice(row["pattern"], _row(_utc(row["effective_from"]), {**row, "source": row["note"]}))
            for row in result.named_results()
            if not row["deleted"]
        )
        with self._lock:
            self._custom[project_id] = _Cached(prices, now + self._ttl_s)
        return prices

    def set_custom(self, project_id: str, price: CustomPrice) -> CustomPrice:
        """Store `price` for the project, replacing one of the same pattern and date."""
        self._write(project_id, [price], deleted=False)
        return price

    def delete_custom(
        self, project_id: str, pattern: str, effective_from: datetime | date | None = None
    ) -> int:
        """Delete the project's prices of `pattern` (only the one from `effective_from`, if given);
        how many were deleted."""
        pattern = pattern.strip().lower()
        moment = None if effective_from is None else _moment(effective_from)
        doomed = [
            price
            for price in self._fresh_custom(project_id)
            if price.pattern == pattern and (moment is None or price.effective_from == moment)
        ]
        if doomed:
            self._write(project_id, doomed, deleted=True)
        return len(doomed)

    def _fresh_custom(self, project_id: str) -> tuple[CustomPrice, ...]:
        with self._lock:
            self._custom.pop(project_id, None)
        return self.custom_prices(project_id)

    def _write(self, project_id: str, prices: list[CustomPrice], *, deleted: bool) -> None:
        validate_project_id(project_id)
        version = time.time_ns()
        updated_at = datetime.now(timezone.utc)
        rows = [
            (
                project_id,
                price.pattern,
                price.effective_from,
                *(getattr(price.row, name) for name in _RATES),
                price.note,
                deleted,
                updated_at,
                version,
            )
            for price in prices
        ]
        self._store.insert_rows(sql.CUSTOM_PRICES_TABLE, sql.CUSTOM_PRICES_COLUMNS, rows)
        with self._lock:
            self._custom.pop(project_id, None)

    # --- model names and the cost plan ----------------------------------------------------------

    def plan(self, project_id: str) -> CostPlan:
        """The cost plan of the names the project is known to use, with its current custom prices."""
        custom = self.custom_prices(project_id)
        with self._lock:
            names = frozenset(self._names.get(project_id, ()))
            cached = self._plans.get(project_id)
        if cached is not None and cached[0] == names and cached[1] == custom:
            return cached[2]
        plan = CostPlan.build(names, self.table, custom)
        with self._lock:
            self._plans[project_id] = (names, custom, plan)
        return plan

    def price_spans(self, project_id: str, spans: Iterable[dict[str, object]], *, start_ns_key: str) -> None:
        """Fill in the cost of canonical span rows that carry none (in place), their start in
        nanoseconds under `start_ns_key`: the figure and source the cost statements derive
        (storage.sql.COST_WITH), computed in Python, which is cheaper for a few rows."""
        spans = [span for span in spans if span[sc.COST_USD] is None]
        if not spans:
            return
        names = {str(span[column]) for span in spans for column in (sc.REQUEST_MODEL, sc.RESPONSE_MODEL)}
        plan = CostPlan.build(names, self.table, self.custom_prices(project_id))
        for span in spans:
            segment = plan.segment_at(
                str(span[sc.RESPONSE_MODEL]),
                str(span[sc.REQUEST_MODEL]),
                int(span[start_ns_key]),  # type: ignore[call-overload]
            )
            cost = None if segment is None else usage_cost(Usage(*(span[c] for c in _USAGE)), segment.rates)  # type: ignore[arg-type]
            span[sc.COST_USD] = cost
            span[sc.COST_SOURCE] = CostSource.UNKNOWN.value if cost is None else segment.source.value  # type: ignore[union-attr]

    def learn(self, project_id: str, names: Iterable[str]) -> bool:
        """Remember model names the project uses; whether any was new (the read should run again)."""
        with self._lock:
            known = self._names.setdefault(project_id, set())
            new = {name for name in names if isinstance(name, str) and name and name not in known}
            room = MAX_NAMES_PER_PROJECT - len(known)
            if room <= 0 or not new:
                return False
            known.update(sorted(new)[:room])
            return True


def _utc(value: object) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


_books: weakref.WeakKeyDictionary[Store, PriceBook] = weakref.WeakKeyDictionary()
_books_lock = threading.Lock()


def price_book(store: Store) -> PriceBook:
    """The price book of `store`, one per store and process."""
    with _books_lock:
        book = _books.get(store)
        if book is None:
            book = _books[store] = PriceBook(store)
        return book
