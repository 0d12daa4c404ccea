"""Span costs derived when spans are read: shipped and custom prices, applied by the cost SQL.

Spans are stored as they came; their cost comes from their usage and the price in force at
their start (tokentrail.pricing's table, or the project's custom price for a matching pattern),
so a corrected table or a new custom price applies to history without rewriting it. A cost the
span carried itself (cost_source sdk) wins; a model without a price has no cost (NULL, unknown).
"""

from tokentrail_collector.pricing._book import (
    ALL_TIME,
    MAX_NAMES_PER_PROJECT,
    PriceBook,
    custom_price,
    price_book,
)
from tokentrail_collector.pricing._plan import (
    UNSEEN_MODEL,
    CostPlan,
    CustomMatcher,
    CustomPrice,
    ModelPricing,
    Segment,
    in_force,
    resolve,
    timeline,
    to_ns,
)

__all__ = [
    "ALL_TIME",
    "MAX_NAMES_PER_PROJECT",
    "UNSEEN_MODEL",
    "CostPlan",
    "CustomMatcher",
    "CustomPrice",
    "ModelPricing",
    "PriceBook",
    "Segment",
    "custom_price",
    "in_force",
    "price_book",
    "resolve",
    "timeline",
    "to_ns",
]
