"""`Client.datasets`: eval datasets mined from traces (`/api/datasets`): preview, create, items,
versions, export and import.

    found = {"models": ["gpt-4o-mini"], "status": "ok", "text": "refund"}
    api.datasets.preview(filter=found).attrs["count"]           # how many items, before creating
    dataset = api.datasets.create("refunds", filter=found, sample={"size": 200, "stratify_by": "model"})
    api.datasets.items(dataset["dataset_id"])                   # a DataFrame of the latest version
    api.datasets.export(dataset["dataset_id"], "openai")        # the file's bytes
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from tokentrail.api._frames import frame
from tokentrail.api._http import Transport, as_time_param

if TYPE_CHECKING:
    import pandas as pd

ExportFormat = Literal["jsonl", "openai", "csv", "parquet"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("jsonl", "openai", "csv", "parquet")
Progress = Callable[[int, "int | None"], None]  # (bytes received, total bytes or None)

ITEM_COLUMNS = (
    "item_id", "input", "output", "expected_output", "metadata", "source_trace_id", "source_span_id",
    "revision", "created_at",
)  # fmt: skip
PREVIEW_COLUMNS = ("input", "output", "expected_output", "metadata", "source_trace_id", "source_span_id")
DATASET_COLUMNS = (
    "dataset_id", "name", "description", "created_at", "latest_version", "item_count", "metadata",
)  # fmt: skip
VERSION_COLUMNS = ("version", "item_count", "note", "created_at")


class Datasets:
    """Datasets of one project. A filter is a dict of the API's `DatasetFilter` fields (start, end,
    kinds, models, services, status, score, latency_percentile, latency_min_ms, cost_min_usd, text,
    tags, trace_ids, span_ids, limit); start and end may be datetimes or timedeltas back from now.
    A drift report's topic cluster gives one: `DriftReport.cluster_filter(feature, cluster_id)`."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def preview(
        self,
        *,
        filter: Mapping[str, Any] | None = None,  # noqa: A002 - the API's name
        dedupe: Mapping[str, Any] | bool | None = None,
        sample: Mapping[str, Any] | None = None,
        preview_items: int = 20,
    ) -> pd.DataFrame:
        """The first items a dataset mined this way would hold; `.attrs["count"]` says how many in
        all and `.attrs["report"]` what matched and what duplicate removal and sampling removed."""
        body = mining_body(filter=filter, dedupe=dedupe, sample=sample)
        body["preview_items"] = preview_items
        answer = self._transport.request("POST", "/api/datasets/preview", json=body)
        table = frame(answer["items"], None if answer["items"] else PREVIEW_COLUMNS)
        table.attrs["count"] = answer["count"]
        table.attrs["report"] = answer["report"]
        return table

    def create(
        self,
        name: str,
        *,
        description: str = "",
        filter: Mapping[str, Any] | None = None,  # noqa: A002 - the API's name
        dedupe: Mapping[str, Any] | bool | None = None,
        sample: Mapping[str, Any] | None = None,
        empty: bool = False,
    ) -> dict[str, Any]:
        """A dataset mined from the spans `filter` keeps (LLM spans by default), or `empty`; the
        dataset as stored (id, latest version, item count, how it was made)."""
        body: dict[str, Any] = {"name": name, "description": description}
        if not empty:
            body["mining"] = mining_body(filter=filter, dedupe=dedupe, sample=sample)
        return self._transport.request_object("POST", "/api/datasets", json=body)

    def list(self, *, limit: int = 100, offset: int = 0) -> pd.DataFrame:
        """One row per dataset; `.attrs["total"]` counts them all."""
        answer = self._transport.request("GET", "/api/datasets", params={"limit": limit, "offset": offset})
        table = frame(answer["datasets"], None if answer["datasets"] else DATASET_COLUMNS)
        table.attrs["total"] = answer["total"]
        return table

    def get(self, dataset_id: str) -> dict[str, Any]:
        return self._transport.request_object("GET", f"/api/datasets/{dataset_id}")

    def versions(self, dataset_id: str) -> pd.DataFrame:
        answer = self._transport.request("GET", f"/api/datasets/{dataset_id}/versions")
        return frame(answer["versions"], None if answer["versions"] else VERSION_COLUMNS)

    def items(
        self, dataset_id: str, *, version: int | None = None, limit: int = 100, offset: int = 0
    ) -> pd.DataFrame:
        """A page of a version's items (the latest by default); `.attrs` holds total and version."""
        answer = self._transport.request(
            "GET",
            f"/api/datasets/{dataset_id}/items",
            params={"version": version, "limit": limit, "offset": offset},
        )
        table = frame(answer["items"], None if answer["items"] else ITEM_COLUMNS)
        table.attrs["total"] = answer["total"]
        table.attrs["version"] = answer["version"]
        return table

    def add_items(self, dataset_id: str, items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """Append items (dicts with input, output, expected_output, metadata, source ids): a new
        version; `{"version", "item_ids"}`."""
        return self._transport.request_object("POST", f"/api/datasets/{dataset_id}/items", json=list(items))

    def edit_item(
        self,
        dataset_id: str,
        item_id: str,
        *,
        input: str | None = None,  # noqa: A002 - the API's name
        output: str | None = None,
        expected_output: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Change an item (usually its expected output): a new version; `{"version", "item"}`."""
        changes = {"input": input, "output": output, "expected_output": expected_output, "metadata": metadata}
        body = {name: value for name, value in changes.items() if value is not None}
        return self._transport.request_object(
            "PATCH", f"/api/datasets/{dataset_id}/items/{item_id}", json=body
        )

    def remove_item(self, dataset_id: str, item_id: str) -> int:
        """A new version without the item (older versions keep it); its number."""
        return int(
            self._transport.request("DELETE", f"/api/datasets/{dataset_id}/items/{item_id}")["version"]
        )

    def export(
        self,
        dataset_id: str,
        format: ExportFormat = "jsonl",  # noqa: A002 - the API's name
        *,
        version: int | None = None,
        progress: Progress | None = None,
    ) -> bytes:
        """The dataset as a file: jsonl (eval: input, expected_output, metadata), openai (chat
        fine-tuning messages), csv or parquet. `progress(received, total)` follows the download."""
        return self._transport.download(
            f"/api/datasets/{dataset_id}/export",
            params={"format": format, "version": version},
            progress=progress,
        )

    def import_items(
        self,
        dataset_id: str,
        data: bytes,
        format: ExportFormat,  # noqa: A002 - the API's name
    ) -> dict[str, Any]:
        """Add the items of a file in one of the export formats: a new version, all or nothing;
        `{"version", "imported", "item_ids"}`."""
        return self._transport.request_object(
            "POST",
            f"/api/datasets/{dataset_id}/import",
            params={"format": format},
            data=data,
            headers={"Content-Type": "application/octet-stream"},
        )


def mining_body(
    *,
    filter: Mapping[str, Any] | None = None,  # noqa: A002 - the API's name
    dedupe: Mapping[str, Any] | bool | None = None,
    sample: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON of mining options; times in the filter as ISO 8601 (timedeltas back from now)."""
    body: dict[str, Any] = {}
    if filter is not None:
        body["filter"] = {
            name: as_time_param(value) if isinstance(value, (datetime, timedelta)) else value
            for name, value in filter.items()
            if value is not None
        }
    if isinstance(dedupe, bool):
        body["dedupe"] = {"enabled": dedupe}
    elif dedupe is not None:
        body["dedupe"] = dict(dedupe)
    if sample is not None:
        body["sample"] = dict(sample)
    return body
