"""LLM-aware tail sampling at the collector (optional, `TOKENTRAIL_SAMPLING=true`).

A trace is kept whole when any of its spans is an error, slow (`sampling_slow_ms`) or expensive
(`sampling_expensive_usd`, the span's own cost or its usage at the price table's rates), or when
it gets a score below `sampling_low_score`. Of the other traces, `sampling_rate` are kept, chosen
by OpenTelemetry's TraceIdRatioBased rule on the trace id, so every request and every collector
replica decides the same for one trace without talking to the others.

Evidence can come late (a trace's error span in a later request, a thumbs-down an hour later), so
spans sampled away are not dropped: they are committed to `held_spans` for the hold window, and a
rule or a low score that keeps their trace later copies them into `spans` (promotion). Traces kept
by a rule are marked in `sampling_kept` for the hold window, so their spans that arrive afterwards
go straight to `spans`. A request is acknowledged only once its rows, held or kept, are committed.

Each stored span carries `sample_weight`: 1/rate when only the hash kept its trace, 1 when a rule
did (or sampling is off). sum(sample_weight) is an unbiased estimate of what was emitted
(Horvitz-Thompson), which is what `/api/stats?scaled=true` reports.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Final

from starlette.concurrency import run_in_threadpool

from tokentrail import semconv as sc
from tokentrail_collector.pricing import price_book
from tokentrail_collector.settings import Settings
from tokentrail_collector.storage import GroupCommitWriter, Store
from tokentrail_collector.storage import sampling as sampling_store
from tokentrail_collector.telemetry import Telemetry

__all__ = [
    "Reason", "Routing", "SamplingPolicy", "TailSampler", "route", "sampled_away_ledger", "trace_sampled",
]  # fmt: skip

Row = dict[str, object]


class Reason:
    """Why a span was kept (the `reason` label of the sampling metrics)."""

    ERROR: Final = "error"
    SLOW: Final = "slow"
    EXPENSIVE: Final = "expensive"
    LOW_SCORE: Final = "low_score"
    KEPT_TRACE: Final = "kept_trace"  # a later span of a trace a rule kept before
    SAMPLED: Final = "sampled"  # the trace hash fell within the rate


_ID_SPACE: Final = 1 << 64
_START_NS: Final = "_start_ns"  # the start of a pricing probe, for PriceBook.price_spans
_USAGE: Final = (
    sc.INPUT_TOKENS, sc.OUTPUT_TOKENS, sc.CACHED_INPUT_TOKENS, sc.CACHE_WRITE_INPUT_TOKENS, sc.REASONING_TOKENS,
)  # fmt: skip


def trace_sampled(trace_id: str, rate: float) -> bool:
    """Whether `rate` keeps this trace: the lower 64 bits of its id below rate * 2^64, as
    OpenTelemetry's TraceIdRatioBased sampler decides (an id that is not hex is hashed first)."""
    if rate >= 1:
        return True
    try:
        low_bits = int(trace_id[-16:], 16)
    except ValueError:
        low_bits = int.from_bytes(hashlib.blake2b(trace_id.encode(), digest_size=8).digest(), "big")
    return low_bits < round(rate * _ID_SPACE)


@dataclass(frozen=True, slots=True)
class SamplingPolicy:
    """The keep rules and the rate for the rest; inf (-inf for the score) turns a rule off."""

    rate: float
    slow_ms: float = math.inf
    expensive_usd: float = math.inf
    low_score: float = -math.inf
    hold_s: int = 3600

    def __post_init__(self) -> None:
        if not 0 <= self.rate <= 1:
            raise ValueError("the sampling rate must be within 0..1")
        if self.hold_s < 1:
            raise ValueError("the hold window must be at least 1 s")

    @classmethod
    def from_settings(cls, settings: Settings) -> SamplingPolicy | None:
        """The policy the settings ask for; None when sampling is off."""
        if not settings.sampling:
            return None
        return cls(
            rate=settings.sampling_rate,
            slow_ms=settings.sampling_slow_ms,
            expensive_usd=settings.sampling_expensive_usd,
            low_score=settings.sampling_low_score,
            hold_s=settings.sampling_hold_s,
        )

    @property
    def weight(self) -> float:
        """What a span kept only by the hash stands for (never used at rate 0: none is kept so)."""
        return 1 / self.rate if self.rate > 0 else 0.0

    def rule(self, row: Mapping[str, object]) -> str | None:
        """The rule that keeps this span's trace from the span alone, if any (a missing cost
        is priced apart, see `route`)."""
        if row[sc.STATUS_CODE] == sc.StatusCode.ERROR.value:
            return Reason.ERROR
        if row[sc.DURATION_MS] >= self.slow_ms:  # type: ignore[operator]
            return Reason.SLOW
        cost = row[sc.COST_USD]
        if cost is not None and cost >= self.expensive_usd:  # type: ignore[operator]
            return Reason.EXPENSIVE
        return None

    def is_low(self, value: float | bool | str) -> bool:
        """Whether a score keeps its trace: a number (a boolean as 1/0) below the threshold."""
        return not isinstance(value, str) and float(value) < self.low_score


@dataclass
class Routing:
    """Where the rows of one request go; the rows themselves carry their weight or expiry."""

    weighted: list[Row] = field(default_factory=list)  # into spans, with sample_weight
    held: list[Row] = field(default_factory=list)  # into held_spans, with held_until
    newly_kept: dict[str, str] = field(default_factory=dict)  # trace id -> the rule that fired here
    ruled: set[str] = field(default_factory=set)  # traces a rule fired for here, kept before or not
    kept_spans: Counter[str] = field(default_factory=Counter)  # spans kept, by reason


def route(
    rows: Iterable[Row],
    policy: SamplingPolicy,
    *,
    held_until: datetime,
    kept_before: Callable[[Collection[str]], set[str]],
    costs: Callable[[list[Row]], list[float | None]] | None = None,
) -> Routing:
    """Decide every span of a request, by trace: a rule fired or the trace was kept before
    (weight 1), the hash keeps it (weight 1/rate), or held. `kept_before` answers which traces a
    rule kept earlier (those are not kept anew: their held spans were promoted then); `costs`
    prices spans that carry no cost."""
    traces: dict[str, list[Row]] = {}
    for row in rows:
        traces.setdefault(str(row[sc.TRACE_ID]), []).append(row)
    kept = kept_before(list(traces))
    rules: dict[str, str] = {}
    unpriced: list[tuple[str, Row]] = []
    for trace_id, spans in traces.items():
        reasons = {reason for reason in map(policy.rule, spans) if reason is not None}
        if reasons:
            rules[trace_id] = min(reasons, key=_RULE_ORDER.index)
        elif costs is not None and trace_id not in kept and math.isfinite(policy.expensive_usd):
            unpriced.extend((trace_id, span) for span in spans if _priceable(span))
    if unpriced:
        for (trace_id, _span), cost in zip(unpriced, costs([span for _, span in unpriced]), strict=True):  # type: ignore[misc]
            if cost is not None and cost >= policy.expensive_usd:
                rules[trace_id] = Reason.EXPENSIVE
    routing = Routing(
        newly_kept={trace_id: rule for trace_id, rule in rules.items() if trace_id not in kept},
        ruled=set(rules),
    )
    for trace_id, spans in traces.items():
        rule = rules.get(trace_id)
        if rule is not None or trace_id in kept:
            weight, reason = 1.0, rule or Reason.KEPT_TRACE
        elif trace_sampled(trace_id, policy.rate):
            weight, reason = policy.weight, Reason.SAMPLED
        else:
            for span in spans:
                span[sampling_store.HELD_UNTIL] = held_until
            routing.held.extend(spans)
            continue
        for span in spans:
            span[sampling_store.SAMPLE_WEIGHT] = weight
        routing.weighted.extend(spans)
        routing.kept_spans[reason] += len(spans)
    return routing


_RULE_ORDER: Final = (Reason.ERROR, Reason.SLOW, Reason.EXPENSIVE)
_NS_PER_HOUR: Final = 3_600 * 10**9


def sampled_away_ledger(project_id: str, held_spans: Iterable[Row]) -> list[Row]:
    """The `sampled_away` rows of spans being held: counts per hour of start, service and model."""
    ledger: dict[tuple[int, object, object], list[int]] = {}
    for span in held_spans:
        hour = int(span[sc.START_TIME]) // _NS_PER_HOUR  # type: ignore[call-overload]
        key = (hour, span[sc.SERVICE], span[sc.REQUEST_MODEL] or span[sc.RESPONSE_MODEL])
        counts = ledger.setdefault(key, [0, 0, 0, 0])
        counts[0] += 1
        counts[1] += span[sc.PARENT_SPAN_ID] == ""
        counts[2] += span[sc.INPUT_TOKENS] or 0  # type: ignore[operator]
        counts[3] += span[sc.OUTPUT_TOKENS] or 0  # type: ignore[operator]
    return [
        dict(
            zip(
                sampling_store.SAMPLED_AWAY_COLUMNS,
                (project_id, datetime.fromtimestamp(hour * 3_600, timezone.utc), service, model, *counts),
                strict=True,
            )
        )
        for (hour, service, model), counts in ledger.items()
    ]


def _priceable(span: Row) -> bool:
    return span[sc.COST_USD] is None and (
        span[sc.INPUT_TOKENS] is not None or span[sc.OUTPUT_TOKENS] is not None
    )


class TailSampler:
    """Routes trace rows by the policy through the group-commit writer, and promotes held
    traces when a rule or a low score keeps them late."""

    def __init__(
        self, policy: SamplingPolicy, store: Store, writer: GroupCommitWriter, telemetry: Telemetry
    ) -> None:
        self.policy = policy
        self._store = store
        self._writer = writer
        self._telemetry = telemetry
        # Traces known kept (their spans go to spans), and those whose promotion this process
        # finished (no need to look for held spans again).
        self._kept = _KeptTraces(ttl_s=policy.hold_s)
        self._promoted = _KeptTraces(ttl_s=policy.hold_s)
        self._kept_in_store = _SharedLookup(
            lambda project_id, ids: sampling_store.kept_traces(store, project_id, ids)
        )
        self._held_in_store = _SharedLookup(
            lambda project_id, ids: sampling_store.held_traces(store, project_id, ids)
        )

    @classmethod
    def from_settings(
        cls, settings: Settings, store: Store, writer: GroupCommitWriter, telemetry: Telemetry
    ) -> TailSampler | None:
        policy = SamplingPolicy.from_settings(settings)
        return None if policy is None else cls(policy, store, writer, telemetry)

    async def commit(self, rows: Sequence[Row], project_id: str) -> None:
        """Commit a request's span rows where the policy sends them; return once all are committed
        and the held spans of traces kept now are promoted."""
        routing, ledger = await run_in_threadpool(self._route, rows, project_id)
        writes = [
            self._writer.submit(routing.weighted, table=sampling_store.WEIGHTED_SPANS),
            self._writer.submit(routing.held, table=sampling_store.HELD_SPANS_TABLE),
            self._writer.submit(ledger, table=sampling_store.SAMPLED_AWAY_TABLE),
            self._writer.submit(
                self._markers(project_id, routing.newly_kept), table=sampling_store.SAMPLING_KEPT_TABLE
            ),
        ]
        await asyncio.gather(*writes)
        # After the marks: a span of these traces arriving from now on is not held, and what was
        # held before is promoted here. A trace marked by an earlier request whose promotion failed
        # (its client retries) is promoted now: the promotions this process finished are skipped.
        unpromoted = self._promoted.unknown(project_id, routing.ruled)
        if unpromoted:
            await run_in_threadpool(self._promote, project_id, unpromoted)
        self._telemetry.sampling_kept(routing.kept_spans)
        self._telemetry.sampling_held(len(routing.held))

    async def keep_traces(self, project_id: str, trace_ids: Iterable[str], reason: str) -> None:
        """Keep these traces whole from now on (a low score): mark them and promote their held spans."""
        wanted = {trace_id.lower() for trace_id in trace_ids}
        kept = await run_in_threadpool(self._kept_before, project_id, wanted)
        await self._writer.submit(
            self._markers(project_id, dict.fromkeys(wanted - kept, reason)),
            table=sampling_store.SAMPLING_KEPT_TABLE,
        )
        unpromoted = self._promoted.unknown(project_id, wanted)
        if unpromoted:
            await run_in_threadpool(self._promote, project_id, unpromoted)

    def _route(self, rows: Sequence[Row], project_id: str) -> tuple[Routing, list[Row]]:
        routing = route(
            rows,
            self.policy,
            held_until=datetime.now(timezone.utc) + timedelta(seconds=self.policy.hold_s),
            kept_before=lambda trace_ids: self._kept_before(project_id, trace_ids),
            costs=lambda spans: self._costs(project_id, spans),
        )
        return routing, sampled_away_ledger(project_id, routing.held)

    def _kept_before(self, project_id: str, trace_ids: Collection[str]) -> set[str]:
        unknown = self._kept.unknown(project_id, trace_ids)
        known = set(trace_ids).difference(unknown)
        found = set(self._kept_in_store.ask(project_id, unknown)) if unknown else set()
        self._kept.add(project_id, found)
        return known | found

    def _costs(self, project_id: str, spans: list[Row]) -> list[float | None]:
        """The spans' costs at the price table's (and the project's custom) rates, computed on
        copies: a derived cost is never stored."""
        probes: list[dict[str, object]] = [
            {
                sc.COST_USD: None,
                sc.COST_SOURCE: "",
                sc.REQUEST_MODEL: span[sc.REQUEST_MODEL],
                sc.RESPONSE_MODEL: span[sc.RESPONSE_MODEL],
                _START_NS: span[sc.START_TIME],
                **{column: span[column] for column in _USAGE},
            }
            for span in spans
        ]
        price_book(self._store).price_spans(project_id, probes, start_ns_key=_START_NS)
        return [probe[sc.COST_USD] for probe in probes]  # type: ignore[misc]

    def _markers(self, project_id: str, kept: Mapping[str, str]) -> list[dict[str, object]]:
        until = datetime.now(timezone.utc) + timedelta(seconds=self.policy.hold_s)
        return [
            {"project_id": project_id, "trace_id": trace_id, "reason": reason, "kept_until": until}
            for trace_id, reason in kept.items()
        ]

    def _promote(self, project_id: str, trace_ids: Collection[str]) -> None:
        """Held spans of traces the hash dropped into spans; spans the hash kept get weight 1."""
        dropped = [t for t in trace_ids if not trace_sampled(t, self.policy.rate)]
        sampled = [t for t in trace_ids if trace_sampled(t, self.policy.rate)]
        held_spans = self._held_in_store.ask(project_id, dropped) if dropped else {}
        sampling_store.promote_held(self._store, project_id, sorted(held_spans))
        sampling_store.reweight_kept(self._store, project_id, sampled, hold_s=self.policy.hold_s)
        self._kept.add(project_id, trace_ids)
        self._promoted.add(project_id, trace_ids)
        self._telemetry.sampling_promoted(sum(held_spans.values()))


class _SharedLookup:
    """Concurrent requests' questions to the store, answered by one query per project: the first
    asker runs the query for everything asked until then, and again while more questions came
    meanwhile (as the group-commit writer shares an insert), so that a read per request does not
    queue up behind the others on the store's read client."""

    def __init__(self, lookup: Callable[[str, list[str]], dict[str, int]]) -> None:
        self._lookup = lookup
        self._lock = threading.Lock()
        self._asked: list[tuple[str, Collection[str], Future[dict[str, int]]]] = []
        self._answering = False

    def ask(self, project_id: str, trace_ids: Collection[str]) -> dict[str, int]:
        """The store's answer for these of the project's traces (those it knows, with a count)."""
        future: Future[dict[str, int]] = Future()
        with self._lock:
            self._asked.append((project_id, trace_ids, future))
            lead = not self._answering
            self._answering = True
        while lead:
            with self._lock:
                asked, self._asked = self._asked, []
                if not asked:
                    self._answering = False
                    break
            self._answer(asked)
        return future.result()

    def _answer(self, asked: list[tuple[str, Collection[str], Future[dict[str, int]]]]) -> None:
        by_project: dict[str, list[tuple[Collection[str], Future[dict[str, int]]]]] = {}
        for project_id, trace_ids, future in asked:
            by_project.setdefault(project_id, []).append((trace_ids, future))
        for project_id, questions in by_project.items():
            try:
                found = self._lookup(project_id, sorted({t for trace_ids, _ in questions for t in trace_ids}))
            except Exception as error:  # every asker gets the store's error (503 to its client)
                for _, future in questions:
                    future.set_exception(error)
                continue
            for trace_ids, future in questions:
                future.set_result({t: found[t] for t in trace_ids if t in found})


class _KeptTraces:
    """Traces kept by a rule, remembered in this process for the hold window: their later spans
    skip the store lookup. Bounded: the oldest entries go first."""

    def __init__(self, *, ttl_s: float, max_entries: int = 100_000) -> None:
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._until: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def unknown(self, project_id: str, trace_ids: Iterable[str]) -> list[str]:
        now = time.monotonic()
        with self._lock:
            return [t for t in trace_ids if self._until.get((project_id, t), 0.0) <= now]

    def add(self, project_id: str, trace_ids: Iterable[str]) -> None:
        until = time.monotonic() + self._ttl_s
        with self._lock:
            for trace_id in trace_ids:
                self._until.pop((project_id, trace_id), None)
                self._until[(project_id, trace_id)] = until
            excess = len(self._until) - self._max_entries
            if excess > 0:
                for key in list(self._until)[:excess]:
                    del self._until[key]
