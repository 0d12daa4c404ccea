"""Pydantic models of `/api/prices`: the effective price table of a project, and custom prices."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from tokentrail.pricing import MAX_RATE

Rate = Annotated[float, Field(ge=0, le=MAX_RATE, description="USD per 1M tokens.")]
OptionalRate = Annotated[
    float | None,
    Field(ge=0, le=MAX_RATE, description="USD per 1M tokens; null: billed as plain input or output."),
]


class PriceRowOut(BaseModel):
    """One price row: shipped with tokentrail (price_table) or set for the project (custom_price)."""

    cost_source: Literal["price_table", "custom_price"]
    model_key: str = Field(description="The table's key of the model, or the custom price's pattern.")
    provider: str = Field(description="Who bills at this price; empty for a custom price.")
    patterns: list[str] = Field(description="Model-name patterns the row applies to.")
    effective_from: datetime = Field(description="In force from this time (UTC) until the next row.")
    input: float
    output: float
    cached_input: float | None
    cache_write_input: float | None
    reasoning: float | None
    source: str = Field(description="Where a shipped price was read (URL), or the custom price's note.")
    notes: str = ""


class PriceTableOut(BaseModel):
    table_version: str = Field(description="Version of the price table shipped with this collector.")
    table_as_of: date = Field(description="The date the shipped table was last checked.")
    currency: Literal["USD"] = "USD"
    unit: Literal["per 1M tokens"] = "per 1M tokens"
    model: str | None = Field(default=None, description="The model asked about, if any.")
    in_force: PriceRowOut | None = Field(
        default=None, description="For `model`: the row in force at `at` (default now); null: no price."
    )
    prices: list[PriceRowOut] = Field(
        description="Custom prices first, then the shipped table (for `model`: the rows that apply to it)."
    )


class CustomPriceIn(BaseModel):
    """A project's price for the models matching `pattern`, from `effective_from` on."""

    pattern: str = Field(
        min_length=1,
        max_length=200,
        description="Model-name pattern, case-insensitive: a name (snapshot suffixes match too), `*` for any characters.",
    )
    effective_from: datetime | date | None = Field(
        default=None, description="From this date or time (UTC); null: for all spans, however old."
    )
    input: Rate
    output: Rate
    cached_input: OptionalRate = None
    cache_write_input: OptionalRate = None
    reasoning: OptionalRate = None
    note: str = Field(default="", max_length=500, description="Why, or where this price comes from.")
