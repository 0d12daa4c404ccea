"""Price tables as the Settings page shows them: custom prices, shipped prices, unpriced models."""

from __future__ import annotations

import pandas as pd

from tokentrail import semconv as sc
from tokentrail_ui.shaping.timeseries import group_labels

RATE_COLUMNS = ["input", "output", "cached_input", "cache_write_input", "reasoning"]


def custom_rows(prices: pd.DataFrame) -> pd.DataFrame:
    """The project's own prices: pattern, from when, rates, note."""
    columns = ["pattern", "effective_from", *RATE_COLUMNS, "note"]
    if prices.empty:
        return pd.DataFrame(columns=columns)
    own = prices[prices["cost_source"] == sc.CostSource.CUSTOM_PRICE.value]
    return pd.DataFrame(
        {
            "pattern": own["model_key"],
            "effective_from": own["effective_from"],
            **{column: own[column] for column in RATE_COLUMNS},
            "note": own["source"],
        },
        columns=columns,
    ).reset_index(drop=True)


def shipped_rows(prices: pd.DataFrame) -> pd.DataFrame:
    """The shipped table: model, provider, patterns, from when, rates."""
    columns = ["model", "provider", "patterns", "effective_from", *RATE_COLUMNS]
    if prices.empty:
        return pd.DataFrame(columns=columns)
    shipped = prices[prices["cost_source"] == sc.CostSource.PRICE_TABLE.value]
    return pd.DataFrame(
        {
            "model": shipped["model_key"],
            "provider": shipped["provider"],
            "patterns": shipped["patterns"].map(lambda patterns: ", ".join(patterns or [])),
            "effective_from": shipped["effective_from"],
            **{column: shipped[column] for column in RATE_COLUMNS},
        },
        columns=columns,
    ).reset_index(drop=True)


def unpriced_models(by_model: pd.DataFrame) -> pd.DataFrame:
    """Models whose spans used tokens without a known cost, the most such spans first."""
    if by_model.empty or "unpriced_spans" not in by_model.columns:
        return pd.DataFrame(columns=["model", "unpriced_spans"])
    table = by_model[(by_model["unpriced_spans"] > 0) & (by_model["group"].fillna("") != "")]
    result = pd.DataFrame({"model": group_labels(table["group"]), "unpriced_spans": table["unpriced_spans"]})
    return result.sort_values("unpriced_spans", ascending=False).reset_index(drop=True)
