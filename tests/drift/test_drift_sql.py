"""The drift statements: values only as parameters, every parameter bound, scoped to the project."""

from __future__ import annotations

import itertools
import re

import pytest

from tokentrail_collector.analysis import drift_sql as dsql
from tokentrail_collector.models_drift import FEATURE_KINDS, DriftFeature, FeatureKind, WindowField
from tokentrail_collector.storage import sql

PLACEHOLDER = re.compile(r"\{(\w+):([^{}]+)\}")
WINDOW_NAMES = {f"{prefix}_{name}" for prefix in ("b", "c", "s") for name in ("start_ns", "end_ns", "value")}
BOUND_BY_CALLERS = {
    "project_id", "model", "service", "lo", "hi", "center", "limit", "category", "max_chars",
    *(dsql.edges_parameter(feature) for feature in DriftFeature),
}  # fmt: skip
PRICE_PLAN = {name for name, _type in PLACEHOLDER.findall(sql.COST_WITH)}  # bound by the context's scope
KNOWN = set(dsql.CONSTANT_PARAMETERS) | WINDOW_NAMES | BOUND_BY_CALLERS | PRICE_PLAN
FIELDS = [None, *WindowField]
FILTER_SETS = [frozenset(), frozenset({"model"}), frozenset({"model", "service"})]


def statements() -> list[str]:
    every = frozenset(DriftFeature)
    numeric = frozenset(f for f in DriftFeature if FEATURE_KINDS[f] is FeatureKind.NUMERIC)
    found = []
    for baseline, current, filters in itertools.product(FIELDS, FIELDS, FILTER_SETS):
        shape = dsql.Shape(baseline, current, filters)
        found += [dsql.summary(shape, every), dsql.histograms(shape, numeric)]
    for field, filters in itertools.product(FIELDS, FILTER_SETS):
        found += [dsql.numeric_examples(f, field, filters) for f in dsql.NUMERIC_EXPRESSIONS]
        found += [dsql.category_examples(f, field, filters) for f in dsql.CATEGORY_EXPRESSIONS]
        found += [dsql.text_sample(f, field, filters) for f in dsql.TEXT_COLUMNS]
    return found


def test_every_placeholder_is_a_known_parameter_and_every_read_is_project_scoped() -> None:
    for statement in statements():
        names = {name for name, _type in PLACEHOLDER.findall(statement)}
        assert names <= KNOWN, names - KNOWN
        assert "FROM spans FINAL" in statement
        assert "project_id = {project_id:String}" in statement


def test_no_quoted_values_besides_empty_strings() -> None:
    """Constants reach SQL as parameters too: the only literal strings are '', the time zone and the
    cost source of an unpriced span (from the shared cost expression)."""
    for statement in statements():
        literals = set(re.findall(r"'([^']*)'", statement))
        assert literals <= {"", "UTC", "unknown"}, literals


def test_every_feature_has_an_expression() -> None:
    for feature, kind in FEATURE_KINDS.items():
        table = {
            FeatureKind.NUMERIC: dsql.NUMERIC_EXPRESSIONS,
            FeatureKind.CATEGORICAL: dsql.CATEGORY_EXPRESSIONS,
            FeatureKind.TOPICS: dsql.TEXT_COLUMNS,
        }[kind]
        assert feature in table


def test_unknown_filters_and_histograms_without_numbers_are_refused() -> None:
    with pytest.raises(ValueError):
        dsql.Shape(None, None, frozenset({"colour"}))
    with pytest.raises(ValueError):
        dsql.histograms(dsql.Shape(None, None, frozenset()), frozenset({DriftFeature.MODEL_MIX}))


def test_percentile_levels_hold_the_deciles_and_report_quantiles() -> None:
    levels = dsql.PERCENTILE_LEVELS
    assert [levels[i] for i in dsql.DECILE_INDEXES] == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    assert {name: levels[i] for name, i in dsql.REPORT_QUANTILE_INDEXES.items()} == {
        "p10": 0.1, "p50": 0.5, "p90": 0.9, "p99": 0.99,
    }  # fmt: skip
