"""Drift reports: how the spans of a current window differ from those of a baseline window.

`drift_report(store, project_id, request)` compares the LLM spans of two windows (time ranges,
absolute or relative to now, and/or values of a field such as model or release), optionally
filtered by model and service. ClickHouse does the counting over the whole windows (one scan for
counts, percentiles and categories, one for histograms on shared edges); topics are computed
on bounded samples of texts. The report states each side's span count and how many values each
statistic used; for each drifted feature it names example spans of what moved most.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Final

from tokentrail_collector import pricing
from tokentrail_collector.analysis import drift_features as df
from tokentrail_collector.analysis import drift_sql as dsql
from tokentrail_collector.analysis.topic_vectors import check_embedder
from tokentrail_collector.analysis.topics import SAMPLE_CHARS, SampledText, TextRole, compare_topics
from tokentrail_collector.models_drift import (
    FEATURE_KINDS,
    DriftFeature,
    DriftReport,
    DriftRequest,
    DriftStatus,
    Example,
    FeatureKind,
    FeatureReport,
    TopicSummary,
    WindowField,
    WindowSpec,
    WindowSummary,
)
from tokentrail_collector.storage import Store
from tokentrail_collector.storage.validation import MAX_TIME_NS, MIN_TIME_NS, to_ns, validate_project_id

# Texts are fetched up to this many characters: enough for the system prompt before a question.
TEXT_FETCH_CHARS: Final = 8000
_TOPIC_ROLES: Final[dict[DriftFeature, TextRole]] = {
    DriftFeature.PROMPT_TOPICS: "prompt",
    DriftFeature.COMPLETION_TOPICS: "completion",
}


@dataclass(frozen=True)
class ResolvedWindow:
    start: datetime | None
    end: datetime | None
    field: WindowField | None
    value: str | None

    @property
    def start_ns(self) -> int:
        return to_ns(self.start, MIN_TIME_NS)

    @property
    def end_ns(self) -> int:
        return to_ns(self.end, MAX_TIME_NS)

    def parameters(self, prefix: str) -> dict[str, object]:
        return dsql.window_parameters(prefix, self.start_ns, self.end_ns, self.value)


def resolve_window(spec: WindowSpec, now: datetime) -> ResolvedWindow:
    start, end = spec.time_range(now)
    return ResolvedWindow(start=start, end=end, field=spec.field, value=spec.value)


@dataclass(frozen=True)
class _Context:
    """What every query of one report shares."""

    store: Store
    project_id: str
    request: DriftRequest
    baseline: ResolvedWindow
    current: ResolvedWindow
    filters: dict[str, str]

    def scope(self) -> dict[str, object]:
        """The project, the filters and the price plan's parameters (the cost feature is derived)."""
        plan = pricing.price_book(self.store).plan(self.project_id).parameters()
        return dsql.parameters({"project_id": self.project_id}, self.filters, plan)


def _learn_models(context: _Context) -> None:
    """Let the price plan know every model of both windows, so derived costs are priced."""
    start = min(context.baseline.start_ns, context.current.start_ns)
    end = max(context.baseline.end_ns, context.current.end_ns)
    rows = context.store.query(
        dsql.MODEL_NAMES, {"project_id": context.project_id, "start_ns": start, "end_ns": end}
    ).result_rows
    pricing.price_book(context.store).learn(context.project_id, [row[0] for row in rows])


def drift_report(
    store: Store, project_id: str, request: DriftRequest, *, now: datetime | None = None
) -> DriftReport:
    """The drift report of `request` on the project's spans; relative windows end at `now`."""
    now = now or datetime.now(timezone.utc)
    if any(FEATURE_KINDS[f] is FeatureKind.TOPICS for f in request.selected_features()):
        check_embedder(request.topics.embedder)
    filters = {
        name: value for name, value in (("model", request.model), ("service", request.service)) if value
    }
    context = _Context(
        store=store,
        project_id=validate_project_id(project_id),
        request=request,
        baseline=resolve_window(request.baseline, now),
        current=resolve_window(request.current, now),
        filters=filters,
    )
    features = request.selected_features()
    if DriftFeature.COST in features:
        _learn_models(context)
    shape = dsql.Shape(context.baseline.field, context.current.field, frozenset(filters))
    both = dsql.parameters(
        context.scope(),
        context.baseline.parameters(dsql.BASELINE),
        context.current.parameters(dsql.CURRENT),
    )
    rows = {
        int(row["side"]): row
        for row in store.query(dsql.summary(shape, frozenset(features)), both).named_results()
    }
    baseline, current, pooled = (
        rows.get(dsql.SIDE_BASELINE, {}),
        rows.get(dsql.SIDE_CURRENT, {}),
        rows.get(dsql.SIDE_BOTH, {}),
    )

    reports: dict[DriftFeature, FeatureReport] = {}
    numeric = [f for f in features if FEATURE_KINDS[f] is FeatureKind.NUMERIC]
    reports.update(_numeric_reports(context, shape, both, numeric, baseline, current, pooled))
    for feature in features:
        kind = FEATURE_KINDS[feature]
        if kind is FeatureKind.CATEGORICAL:
            reports[feature] = _categorical_report(context, feature, baseline, current)
        elif kind is FeatureKind.TOPICS:
            reports[feature] = _topic_report(context, feature, baseline, current)

    ordered = [reports[feature] for feature in features]
    return DriftReport(
        status=df.worst([report.status for report in ordered]),
        generated_at=now,
        baseline=_summary(context.baseline, baseline),
        current=_summary(context.current, current),
        model=request.model,
        service=request.service,
        thresholds=request.thresholds,
        drifted=[r.feature for r in ordered if r.status is DriftStatus.DRIFTED],
        warnings=[r.feature for r in ordered if r.status is DriftStatus.WARNING],
        features=ordered,
    )


def _summary(window: ResolvedWindow, row: Mapping[str, object]) -> WindowSummary:
    return WindowSummary(
        start=window.start,
        end=window.end,
        field=window.field,
        value=window.value,
        span_count=int(row.get("spans") or 0),  # type: ignore[call-overload]
        tool_span_count=int(row.get("tool_spans") or 0),  # type: ignore[call-overload]
    )


def _count(row: Mapping[str, object], feature: DriftFeature) -> int:
    return int(row.get(f"n_{feature.value}") or 0)  # type: ignore[call-overload]


def _numeric_reports(
    context: _Context,
    shape: dsql.Shape,
    both: dict[str, object],
    features: list[DriftFeature],
    baseline: Mapping[str, object],
    current: Mapping[str, object],
    pooled: Mapping[str, object],
) -> dict[DriftFeature, FeatureReport]:
    thresholds = context.request.thresholds
    reports: dict[DriftFeature, FeatureReport] = {}
    edges: dict[DriftFeature, df.Edges] = {}
    for feature in features:
        n_b, n_c = _count(baseline, feature), _count(current, feature)
        few = df.too_few(feature, n_b, n_c, thresholds)
        found = df.numeric_edges(pooled, feature) if few is None else None
        if few is not None:
            reports[feature] = few
        elif found is None:
            reports[feature] = df.not_judged(feature, n_b, n_c, "not judged: no finite values")
        else:
            edges[feature] = found
    if not edges:
        return reports
    statement = dsql.histograms(shape, frozenset(edges))
    parameters = {**both, **{dsql.edges_parameter(f): e.parameter() for f, e in edges.items()}}
    hist = {int(row["side"]): row for row in context.store.query(statement, parameters).named_results()}
    for feature, feature_edges in edges.items():
        key = f"h_{feature.value}"
        outcome = df.numeric_feature(
            feature,
            baseline,
            current,
            feature_edges,
            hist.get(dsql.SIDE_BASELINE, {}).get(key),
            hist.get(dsql.SIDE_CURRENT, {}).get(key),
            thresholds,
        )
        report = outcome.report
        if report.status is DriftStatus.DRIFTED and outcome.grown_bin and context.request.examples:
            lo, hi = outcome.grown_bin
            rows = context.store.query(
                dsql.numeric_examples(feature, context.current.field, frozenset(context.filters)),
                {
                    **context.scope(),
                    **context.current.parameters(dsql.SAMPLE),
                    "lo": lo,
                    "hi": hi,
                    "center": outcome.baseline_median or 0.0,
                    "limit": context.request.examples,
                },
            ).result_rows
            report.examples = [Example(trace_id=t, span_id=s, value=float(v)) for t, s, v in rows]
        reports[feature] = report
    return reports


def _judged(
    context: _Context, feature: DriftFeature, baseline: Mapping[str, object], current: Mapping[str, object]
) -> tuple[int, int, FeatureReport | None]:
    """Both sides' counts of values, and the report when they are too few to judge."""
    n_b, n_c = _count(baseline, feature), _count(current, feature)
    return n_b, n_c, df.too_few(feature, n_b, n_c, context.request.thresholds)


def _categorical_report(
    context: _Context, feature: DriftFeature, baseline: Mapping[str, object], current: Mapping[str, object]
) -> FeatureReport:
    n_b, n_c, few = _judged(context, feature, baseline, current)
    if few is not None:
        return few
    key = f"m_{feature.value}"
    names, counts_b, counts_c = df.category_counts(baseline.get(key), current.get(key))
    outcome = df.compare_counts(feature, names, counts_b, counts_c, n_b, n_c, context.request.thresholds)
    report = outcome.report
    if report.status is DriftStatus.DRIFTED and outcome.grown and outcome.grown != df.OTHER_LABEL:
        if context.request.examples:
            rows = context.store.query(
                dsql.category_examples(feature, context.current.field, frozenset(context.filters)),
                {
                    **context.scope(),
                    **context.current.parameters(dsql.SAMPLE),
                    "category": outcome.grown,
                    "limit": context.request.examples,
                },
            ).result_rows
            report.examples = [Example(trace_id=t, span_id=s, category=outcome.grown) for t, s in rows]
    return report


def _sample(context: _Context, feature: DriftFeature, window: ResolvedWindow) -> list[SampledText]:
    rows = context.store.query(
        dsql.text_sample(feature, window.field, frozenset(context.filters)),
        {
            **context.scope(),
            **window.parameters(dsql.SAMPLE),
            "limit": context.request.topics.sample_size,
            "max_chars": TEXT_FETCH_CHARS,
        },
    ).result_rows
    return [SampledText(trace_id=t, span_id=s, stored=text) for t, s, text in rows]


def _topic_report(
    context: _Context, feature: DriftFeature, baseline: Mapping[str, object], current: Mapping[str, object]
) -> FeatureReport:
    thresholds = context.request.thresholds
    n_b, n_c, few = _judged(context, feature, baseline, current)
    if few is not None:
        return few
    options = context.request.topics
    comparison = compare_topics(
        _sample(context, feature, context.baseline),
        _sample(context, feature, context.current),
        role=_TOPIC_ROLES[feature],
        clusters=options.clusters,
        embedder=options.embedder,
    )
    used = (comparison.baseline_used, comparison.current_used)
    few = df.too_few(feature, *used, thresholds)
    if few is not None:
        few.baseline_count, few.current_count = n_b, n_c
        few.note += " (texts with words in the samples)"
        return few
    names = [str(cluster.cluster) for cluster in comparison.clusters]
    outcome = df.compare_counts(
        feature,
        names,
        comparison.baseline_counts,
        comparison.current_counts,
        n_b,
        n_c,
        thresholds,
        sampled=used,
    )
    report = outcome.report
    report.topics = TopicSummary(
        embedder=comparison.embedder,
        dimensions=comparison.dimensions,
        centroid_distance=comparison.centroid_distance,
        clusters=sorted(comparison.clusters, key=lambda cluster: (-abs(cluster.change), cluster.cluster)),
    )
    if report.status is DriftStatus.DRIFTED and outcome.grown is not None:
        members = comparison.members[int(outcome.grown)][: context.request.examples]
        report.examples = [Example(trace_id=t, span_id=s, text=text[:SAMPLE_CHARS]) for t, s, text in members]
    return report
