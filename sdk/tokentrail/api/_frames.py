"""Tables of the API as pandas DataFrames; pandas is imported only when a table is asked for."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

# Columns holding RFC 3339 times; they become timezone-aware datetimes.
TIME_COLUMNS = (
    "start_time", "end_time", "bucket", "created_at", "updated_at", "timestamp", "time", "evaluated_at",
    "last_evaluated_at", "generated_at",
)  # fmt: skip


def frame(rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A DataFrame of `rows` (dicts); `columns` fixes the columns of an empty result too."""
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - pandas ships with the api and ui extras
        raise ImportError("tables from tokentrail.api need pandas: pip install 'tokentrail[api]'") from exc
    table = pd.DataFrame(list(rows), columns=list(columns) if columns is not None else None)
    for column in TIME_COLUMNS:
        if column in table.columns:
            table[column] = pd.to_datetime(table[column], utc=True, format="ISO8601")
    return table
