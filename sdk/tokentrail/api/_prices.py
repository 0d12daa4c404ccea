"""`Client.prices`: the project's effective price table and its custom prices (`/api/prices`).

Costs are derived when spans are read, so a custom price applies to spans already stored.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from tokentrail.api._frames import frame
from tokentrail.api._http import TimeArg, Transport, as_time_param

if TYPE_CHECKING:
    import pandas as pd

PRICE_COLUMNS = (
    "cost_source", "model_key", "provider", "patterns", "effective_from", "input", "output", "cached_input",
    "cache_write_input", "reasoning", "source", "notes",
)  # fmt: skip


class Prices:
    """Prices in USD per 1M tokens: the table shipped with the collector and the project's own.

    api.prices.list()                                   # every row, custom prices first
    api.prices.list(model="gpt-4o-mini").attrs["in_force"]
    api.prices.set("acme-llm-*", input=0.5, output=1.5, note="contract 2026")
    """

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def list(self, *, model: str | None = None, at: TimeArg = None) -> pd.DataFrame:
        """The price rows (for `model`: those that apply to it); `.attrs` holds the table's version
        and date and, for a model, the row `in_force` at `at` (default now)."""
        answer = self._transport.request(
            "GET", "/api/prices", params={"model": model, "at": as_time_param(at)}
        )
        table = frame(answer["prices"], None if answer["prices"] else PRICE_COLUMNS)
        if "effective_from" in table.columns:
            import pandas as pd

            table["effective_from"] = pd.to_datetime(table["effective_from"], utc=True, format="ISO8601")
        table.attrs.update(
            table_version=answer["table_version"],
            table_as_of=answer["table_as_of"],
            in_force=answer.get("in_force"),
        )
        return table

    def set(
        self,
        pattern: str,
        *,
        input: float,  # noqa: A002 - the API's name
        output: float,
        cached_input: float | None = None,
        cache_write_input: float | None = None,
        reasoning: float | None = None,
        effective_from: datetime | date | None = None,
        note: str = "",
    ) -> dict[str, Any]:
        """Set the project's price for the models matching `pattern` (`*` for any characters) from
        `effective_from` on (None: for every span); the stored row."""
        body: dict[str, Any] = {
            "pattern": pattern,
            "input": input,
            "output": output,
            "cached_input": cached_input,
            "cache_write_input": cache_write_input,
            "reasoning": reasoning,
            "note": note,
        }
        if effective_from is not None:
            body["effective_from"] = effective_from.isoformat()
        return self._transport.request_object("PUT", "/api/prices", json=body)

    def delete(self, pattern: str, *, effective_from: datetime | date | None = None) -> None:
        """Remove a custom price (all of the pattern's, or the one from `effective_from`)."""
        self._transport.request(
            "DELETE",
            "/api/prices",
            params={
                "pattern": pattern,
                "effective_from": None if effective_from is None else effective_from.isoformat(),
            },
        )
