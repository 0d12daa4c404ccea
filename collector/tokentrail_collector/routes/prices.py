"""`/api/prices`: the project's effective price table, and its custom prices (set, replace, delete).

A custom price applies to spans already stored as soon as it is set: costs are derived when
spans are read (tokentrail_collector.pricing), never written into them.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response
from starlette.concurrency import run_in_threadpool

from tokentrail.pricing import ModelPrice, PriceRow
from tokentrail.semconv import CostSource
from tokentrail_collector.deps import ProjectDep, ServicesDep
from tokentrail_collector.models_prices import CustomPriceIn, PriceRowOut, PriceTableOut
from tokentrail_collector.pricing import (
    CustomMatcher,
    CustomPrice,
    PriceBook,
    custom_price,
    in_force,
    price_book,
    resolve,
    to_ns,
)

router = APIRouter(prefix="/api", tags=["prices"])


def _shipped_rows(entry: ModelPrice) -> list[PriceRowOut]:
    return [_row_out(CostSource.PRICE_TABLE, entry.key, entry.provider, list(entry.patterns), row, entry.notes)
            for row in entry.prices]  # fmt: skip


def _custom_row(price: CustomPrice) -> PriceRowOut:
    return _row_out(CostSource.CUSTOM_PRICE, price.pattern, "", [price.pattern], price.row, "")


def _row_out(
    source: CostSource, key: str, provider: str, patterns: list[str], row: PriceRow, notes: str
) -> PriceRowOut:
    return PriceRowOut(
        cost_source=source.value,  # type: ignore[arg-type]
        model_key=key,
        provider=provider,
        patterns=patterns,
        effective_from=row.effective_from,
        input=row.input,
        output=row.output,
        cached_input=row.cached_input,
        cache_write_input=row.cache_write_input,
        reasoning=row.reasoning,
        source=row.source,
        notes=notes,
    )


def effective_table(book: PriceBook, project_id: str, model: str | None, at: datetime) -> PriceTableOut:
    """The rows that price the project's spans (of `model`, if given), custom ones first."""
    custom = book.custom_prices(project_id)
    table = book.table
    answer = PriceTableOut(table_version=table.version, table_as_of=table.as_of, prices=[])
    if model is None:
        answer.prices = [_custom_row(price) for price in custom]
        answer.prices += [row for entry in table.models for row in _shipped_rows(entry)]
        return answer
    pricing = resolve(model, table, CustomMatcher(custom))
    answer.model = model
    answer.prices = [_custom_row(price) for price in custom if price.pattern == pricing.custom_pattern]
    if pricing.shipped is not None:
        answer.prices += _shipped_rows(pricing.shipped)
    segment = in_force(pricing.segments, to_ns(at))
    if segment is not None:
        by_start = {(row.cost_source, to_ns(row.effective_from)): row for row in answer.prices}
        answer.in_force = by_start.get((segment.source.value, segment.start_ns))
    return answer


@router.get("/prices", response_model=PriceTableOut)
async def list_prices(
    project_id: ProjectDep,
    services: ServicesDep,
    model: Annotated[
        str | None, Query(max_length=256, description="Only the rows that price this model name.")
    ] = None,
    at: Annotated[
        datetime | None,
        Query(description="With `model`: the time to report the price in force at (default now)."),
    ] = None,
) -> PriceTableOut:
    moment = at or datetime.now(timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    book = price_book(services.store)
    return await run_in_threadpool(effective_table, book, project_id, model, moment)


@router.put("/prices", response_model=PriceRowOut)
@router.post("/prices", response_model=PriceRowOut, include_in_schema=False)
async def set_price(body: CustomPriceIn, project_id: ProjectDep, services: ServicesDep) -> PriceRowOut:
    """Set the project's price for a model pattern from a date (replacing one of the same pattern and date)."""
    try:
        price = custom_price(
            body.pattern,
            effective_from=body.effective_from,
            input=body.input,
            output=body.output,
            cached_input=body.cached_input,
            cache_write_input=body.cache_write_input,
            reasoning=body.reasoning,
            note=body.note,
        )
    except ValueError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    stored = await run_in_threadpool(price_book(services.store).set_custom, project_id, price)
    return _custom_row(stored)


@router.delete("/prices", status_code=204, responses={404: {"description": "No such custom price"}})
async def delete_price(
    project_id: ProjectDep,
    services: ServicesDep,
    pattern: Annotated[str, Query(min_length=1, max_length=200)],
    effective_from: Annotated[
        datetime | date | None,
        Query(description="Only the price from this date or time; default: all of the pattern."),
    ] = None,
) -> Response:
    deleted = await run_in_threadpool(
        price_book(services.store).delete_custom, project_id, pattern, effective_from
    )
    if not deleted:
        raise HTTPException(
            status_code=404, detail=f"no custom price for pattern {pattern!r} in this project"
        )
    return Response(status_code=204)
