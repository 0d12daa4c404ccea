"""The reading machinery: dialects, the per-key plan built from them, and what derivers see.

A dialect is one instrumentation convention's way of saying things (tokentrail's own keys, the
OpenTelemetry GenAI names, later OpenInference, OpenLLMetry, ...). Most of what a dialect says is
"column C is in attribute K" (a `Read`) or "map column C gathers the attributes under prefix P,
keyed by the rest of their name" (a `PrefixRead`). What needs more than one attribute (an event,
a numbered list) is a `Deriver`.

Precedence: reads are compiled into one plan per attribute key, so a span costs one dict lookup
per attribute however many dialects there are. When several reads give a column a value, the one
from the earliest dialect (and the earliest read within it) wins. Derivers run afterwards, in
dialect order, and only fill columns that no read and no earlier deriver filled (in a map column,
the entries missing). One deriver goes further, by design: OpenTelemetry's system instructions
join the input messages a read found (see `_dialects/genai.py`).

A deriver that only matters for spans carrying certain attributes (a numbered message list, a
JSON blob) is a `GatedDeriver`: its gate is compiled into the plans of the keys that open it, so
the spans without those attributes, most of them, do not pay for it at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypedDict

from opentelemetry.proto.common.v1.common_pb2 import KeyValue

from tokentrail import semconv as sc
from tokentrail_collector.normalise._limits import MAX_CONTENT_CHARS, cut, refused_key
from tokentrail_collector.normalise._values import AttributeValue, Converter, decode

# Columns that come from the span itself, never from a dialect.
_SPAN_COLUMNS = frozenset({
    sc.PROJECT_ID, sc.TRACE_ID, sc.SPAN_ID, sc.PARENT_SPAN_ID, sc.NAME, sc.SERVICE,
    sc.START_TIME, sc.END_TIME, sc.DURATION_MS, sc.STATUS_CODE, sc.STATUS_MESSAGE,
    sc.ATTRIBUTES, sc.RESOURCE_ATTRIBUTES, sc.EVENTS,
})  # fmt: skip
READABLE_COLUMNS = frozenset(sc.CANONICAL_COLUMNS) - _SPAN_COLUMNS
MAP_COLUMNS = frozenset({sc.REQUEST_PARAMS})  # the readable columns of type Map(String, String)

# Attribute keys are few in practice; past this many distinct keys, plans are computed per span
# instead of kept, so a sender inventing keys cannot grow memory.
_MAX_PLANNED_KEYS = 20_000
# Decoded attributes are remembered by their encoding when it is this small (model names,
# parameters, token counts, tags: what recurs from span to span; prompts do not), and the memory
# is emptied when it holds this many, which bounds it to about 15 MB.
MAX_REMEMBERED_ATTRIBUTE_BYTES = 256
MAX_REMEMBERED_ATTRIBUTES = 20_000


class EventRecord(TypedDict):
    """A span event as the `events` column stores it (keys: semconv EVENT_*)."""

    name: str
    time_unix_nano: int
    attributes: dict[str, AttributeValue]


@dataclass(frozen=True, slots=True)
class SpanView:
    """What a deriver sees of a span."""

    attributes: dict[str, AttributeValue]  # decoded values
    flat_attributes: dict[str, str]  # the same, flattened to strings (the `attributes` column)
    events: list[EventRecord]
    scope_name: str
    start_time_unix_nano: int = 0


# A deriver adds to `found` (column -> value) what it can tell from the span, leaving alone the
# columns already there.
Deriver = Callable[[SpanView, dict[str, object]], None]


@dataclass(frozen=True, slots=True)
class GatedDeriver:
    """`derive`, run only for spans with an attribute named one of `keys` or starting with one of
    `prefixes`, or (`events`) for spans with events (in dialect order with the other derivers)."""

    derive: Deriver
    keys: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    events: bool = False


@dataclass(frozen=True, slots=True)
class Read:
    """Column `column` is `convert(value of attribute key)`, unless convert gives None."""

    column: str
    key: str
    convert: Converter


@dataclass(frozen=True, slots=True)
class PrefixRead:
    """Map column `column` gathers every attribute whose key starts with `prefix` (except the keys
    in `exclude`), keyed by the rest of the key, its value `convert(value)`."""

    column: str
    prefix: str
    convert: Callable[[AttributeValue], str | None]
    exclude: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    reads: tuple[Read, ...] = ()
    prefix_reads: tuple[PrefixRead, ...] = ()
    derivers: tuple[Deriver | GatedDeriver, ...] = ()


# What one attribute key feeds: (rank, column, convert, contested, map key). A lower rank wins;
# `contested` says whether any other key feeds the same column (only then do ranks need keeping);
# `map key` is None for a plain column and the entry's key in a map column for a prefix read.
# An open gate is an entry of the pseudo map column GATES, keyed by the gate's number.
PlanEntry = tuple[int, str, Converter, bool, "str | int | None"]
Plan = tuple[PlanEntry, ...]
# A plan entry applied to one value: (rank, column, converted value, contested, map key).
Action = tuple[int, str, object, bool, "str | int | None"]
# The pseudo column, in what the reads found for a span, of the gates its attributes opened.
GATES = "\x00gates"
ALWAYS = -1  # the gate number of a deriver that always runs
ON_EVENTS = -2  # the gate number of a deriver that runs for spans with events
# An encoded KeyValue, read: (key, value, flattened value, the actions its value leads to).
# Shared by every span that carries the same encoded attribute, so never to be changed.
ReadAttribute = tuple[str, AttributeValue, str, tuple[Action, ...]]
# What `read_attribute` gives for a key that is refused (`_limits.refused_key`); never remembered,
# so callers check for it on their slow path only.
REFUSED: ReadAttribute = ("", None, "", ())


@dataclass(slots=True)
class CompiledDialects:
    """The dialects, ready to read spans with: a plan per attribute key, and the derivers."""

    exact: dict[str, list[tuple[int, Read]]]
    prefix: tuple[tuple[int, PrefixRead], ...]
    contested: frozenset[str]
    derivers: tuple[tuple[Deriver, int], ...]  # each with its gate number, or ALWAYS or ON_EVENTS
    gates: tuple[GatedDeriver, ...] = ()  # indexed by gate number
    # Whether some deriver runs for every span, and whether some runs for every span with events:
    # when neither, a span with no events that opened no gate skips the derivers altogether.
    any_always: bool = False
    any_on_events: bool = False
    plans: dict[str, Plan] = field(default_factory=dict)
    remembered: dict[bytes, ReadAttribute] = field(default_factory=dict)

    def read_attribute(self, encoded: bytes) -> ReadAttribute:
        """An encoded KeyValue decoded, flattened and run through its key's plan.

        Callers look in `remembered` first; this is the slow path that fills it. A refused key
        gives REFUSED; a value longer than MAX_CONTENT_CHARS is cut (a structured one becomes its
        JSON text, cut), before any column is read from it.
        """
        key_value = KeyValue.FromString(encoded)
        key = key_value.key
        if refused_key(key):
            return REFUSED
        value, text = decode(key_value.value)
        if len(text) > MAX_CONTENT_CHARS:
            text = cut(text, MAX_CONTENT_CHARS)
            value = text
        actions: list[Action] = []
        for rank, column, convert, contested, map_key in self.plan(key):
            converted = convert(value)
            if converted is not None:
                actions.append((rank, column, converted, contested, map_key))
        read = (key, value, text, tuple(actions))
        if len(encoded) <= MAX_REMEMBERED_ATTRIBUTE_BYTES:
            if len(self.remembered) >= MAX_REMEMBERED_ATTRIBUTES:
                self.remembered.clear()
            self.remembered[encoded] = read
        return read

    def plan(self, key: str) -> Plan:
        """The entries attribute `key` feeds, earliest rank first (computed once per key)."""
        plan = self.plans.get(key)
        if plan is None:
            plan = self._make_plan(key)
            if len(self.plans) < _MAX_PLANNED_KEYS:
                self.plans[key] = plan
        return plan

    def _make_plan(self, key: str) -> Plan:
        entries: list[PlanEntry] = [
            (rank, read.column, read.convert, read.column in self.contested, None)
            for rank, read in self.exact.get(key, ())
        ]
        for rank, prefix_read in self.prefix:
            if key.startswith(prefix_read.prefix) and key not in prefix_read.exclude:
                map_key = key[len(prefix_read.prefix) :]
                contested = prefix_read.column in self.contested
                entries.append((rank, prefix_read.column, prefix_read.convert, contested, map_key))
        for number, gate in enumerate(self.gates):
            if key in gate.keys or key.startswith(gate.prefixes):
                entries.append((ALWAYS, GATES, _opens_gate, False, number))
        entries.sort(key=lambda entry: entry[0])
        return tuple(entries)


def _opens_gate(value: AttributeValue) -> bool:
    return True


def compile_dialects(dialects: Iterable[Dialect]) -> CompiledDialects:
    """The reading plan of `dialects`, the earliest first in precedence."""
    exact: dict[str, list[tuple[int, Read]]] = {}
    prefix: list[tuple[int, PrefixRead]] = []
    derivers: list[tuple[Deriver, int]] = []
    gates: list[GatedDeriver] = []
    keys_per_column: dict[str, set[str]] = {}  # prefixes count as keys
    rank = 0
    for dialect in dialects:
        for read in dialect.reads:
            if read.column not in READABLE_COLUMNS or read.column in MAP_COLUMNS:
                raise ValueError(f"dialect {dialect.name!r}: a Read cannot set column {read.column!r}")
            exact.setdefault(read.key, []).append((rank, read))
            keys_per_column.setdefault(read.column, set()).add(read.key)
            rank += 1
        for prefix_read in dialect.prefix_reads:
            if prefix_read.column not in MAP_COLUMNS:
                raise ValueError(
                    f"dialect {dialect.name!r}: a PrefixRead fills a map column, not {prefix_read.column!r}"
                )
            prefix.append((rank, prefix_read))
            keys_per_column.setdefault(prefix_read.column, set()).add(prefix_read.prefix)
            rank += 1
        for deriver in dialect.derivers:
            if not isinstance(deriver, GatedDeriver):
                derivers.append((deriver, ALWAYS))
            elif deriver.events:
                if deriver.keys or deriver.prefixes:
                    raise ValueError(
                        f"dialect {dialect.name!r}: a deriver is gated by events or by keys, not both"
                    )
                derivers.append((deriver.derive, ON_EVENTS))
            else:
                derivers.append((deriver.derive, len(gates)))
                gates.append(deriver)
    contested = frozenset(column for column, keys in keys_per_column.items() if len(keys) > 1)
    numbers = {gate for _, gate in derivers}
    return CompiledDialects(
        exact,
        tuple(prefix),
        contested,
        tuple(derivers),
        tuple(gates),
        ALWAYS in numbers,
        ON_EVENTS in numbers,
    )
