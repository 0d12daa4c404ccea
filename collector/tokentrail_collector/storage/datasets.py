"""Eval datasets in the store (migration 0008): datasets, immutable item revisions, versions.

A version is the ordered list of (item id, revision) pairs it holds. Creating a dataset writes
version 1; adding, editing, removing or importing items writes the next version, and every
older version stays readable. Items are written before the version that lists them, so a
failed write leaves no version pointing at missing items, and nothing half-written is visible.

Version numbers are taken under a per-dataset lock of this process (with chDB the collector is
one process; collectors sharing a server store should send a dataset's writes to one of them).

The spans a dataset is mined from are read by storage/mining.py.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Final

from tokentrail_collector.analysis.datasets import Item, NewItem
from tokentrail_collector.storage.store import Store
from tokentrail_collector.storage.validation import validate_project_id

MAX_DATASET_ITEMS: Final = 100_000
MAX_TEXT_CHARS: Final = 1_000_000  # per input, output and expected output
MAX_PAGE: Final = 1_000
_NS_PER_MS = 1_000_000

DATASETS_TABLE: Final = "datasets"
ITEMS_TABLE: Final = "dataset_items"
VERSIONS_TABLE: Final = "dataset_versions"
DATASET_COLUMNS: Final = (
    "project_id",
    "dataset_id",
    "name",
    "description",
    "metadata",
    "created_at",
    "row_version",
)
ITEM_COLUMNS: Final = (
    "project_id", "dataset_id", "item_id", "revision", "input", "output", "expected_output", "metadata",
    "source_trace_id", "source_span_id", "created_at",
)  # fmt: skip
VERSION_COLUMNS: Final = (
    "project_id", "dataset_id", "version", "item_ids", "item_revisions", "item_count", "note", "created_at",
)  # fmt: skip


class DatasetNotFound(LookupError):
    """No such dataset, version or item in this project (answer 404)."""


# --- statements -------------------------------------------------------------------------------

_DATASET_SELECT: Final = """
SELECT d.dataset_id AS dataset_id, d.name AS name, d.description AS description, d.metadata AS metadata,
    toUnixTimestamp64Milli(d.created_at) AS created_ms, v.latest_version AS latest_version,
    v.item_count AS item_count, count() OVER () AS total
FROM (
    SELECT dataset_id, name, description, metadata, created_at
    FROM datasets FINAL
    WHERE project_id = {project_id:String}
        AND ({dataset_id:Nullable(String)} IS NULL OR dataset_id = {dataset_id:Nullable(String)})
) AS d
LEFT JOIN (
    SELECT dataset_id, max(version) AS latest_version, argMax(item_count, version) AS item_count
    FROM dataset_versions FINAL
    WHERE project_id = {project_id:String}
        AND ({dataset_id:Nullable(String)} IS NULL OR dataset_id = {dataset_id:Nullable(String)})
    GROUP BY dataset_id
) AS v ON v.dataset_id = d.dataset_id
ORDER BY d.created_at DESC, d.dataset_id
LIMIT {limit:UInt32} OFFSET {offset:UInt32}
"""

_VERSIONS: Final = """
SELECT version, item_count, note, toUnixTimestamp64Milli(created_at) AS created_ms
FROM dataset_versions FINAL
WHERE project_id = {project_id:String} AND dataset_id = {dataset_id:String}
ORDER BY version
"""

_VERSION_PAIRS: Final = """
SELECT version, item_ids, item_revisions
FROM dataset_versions FINAL
WHERE project_id = {project_id:String} AND dataset_id = {dataset_id:String}
    AND ({version:Nullable(UInt32)} IS NULL OR version = {version:Nullable(UInt32)})
ORDER BY version DESC
LIMIT 1
"""

# A page of one version's items, in the version's order. Only the page's items are read.
_VERSION_ITEMS: Final = """
WITH page AS (
    SELECT item_id, revision, position
    FROM dataset_versions FINAL
    ARRAY JOIN item_ids AS item_id, item_revisions AS revision, arrayEnumerate(item_ids) AS position
    WHERE project_id = {project_id:String} AND dataset_id = {dataset_id:String} AND version = {version:UInt32}
    ORDER BY position
    LIMIT {limit:UInt32} OFFSET {offset:UInt32}
)
SELECT page.position AS position, items.item_id AS item_id, items.revision AS revision,
    items.input AS input, items.output AS output, items.expected_output AS expected_output,
    items.metadata AS metadata, items.source_trace_id AS source_trace_id,
    items.source_span_id AS source_span_id, toUnixTimestamp64Milli(items.created_at) AS created_ms
FROM page
INNER JOIN (
    SELECT item_id, revision, input, output, expected_output, metadata, source_trace_id, source_span_id,
        created_at
    FROM dataset_items FINAL
    WHERE project_id = {project_id:String} AND dataset_id = {dataset_id:String}
        AND item_id IN (SELECT item_id FROM page)
) AS items ON items.item_id = page.item_id AND items.revision = page.revision
ORDER BY position
"""

# --- datasets ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetInfo:
    dataset_id: str
    name: str
    description: str
    metadata: dict[str, object]
    created_at_unix_nano: int
    latest_version: int
    item_count: int


@dataclass(frozen=True)
class VersionInfo:
    version: int
    item_count: int
    note: str
    created_at_unix_nano: int


@dataclass(frozen=True)
class ItemPage:
    version: int
    total: int
    items: list[Item] = field(default_factory=list)


@dataclass(frozen=True)
class ItemChanges:
    """An edit of an item; fields left None keep their value."""

    input: str | None = None
    output: str | None = None
    expected_output: str | None = None
    metadata: dict[str, object] | None = None


# A dataset's next version number is read, then written, under its lock: in one process. Replicas
# on one server get a dataset's requests routed to one of them (deploy/nginx.conf hashes the id).
_locks_guard = threading.Lock()
_locks: dict[tuple[str, str], threading.Lock] = {}


def _dataset_lock(project_id: str, dataset_id: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault((project_id, dataset_id), threading.Lock())


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _check_items(items: Sequence[NewItem]) -> None:
    for index, item in enumerate(items):
        for name in ("input", "output", "expected"):
            if len(getattr(item, name)) > MAX_TEXT_CHARS:
                raise ValueError(f"item {index}: {name} is longer than {MAX_TEXT_CHARS} characters")


def _item_rows(project_id: str, dataset_id: str, items: Sequence[NewItem]) -> list[tuple[object, ...]]:
    now = _now()
    return [
        (
            project_id,
            dataset_id,
            uuid.uuid4().hex,
            1,
            item.input,
            item.output,
            item.expected,
            _json(dict(item.metadata)),
            item.source_trace_id,
            item.source_span_id,
            now,
        )  # fmt: skip
        for item in items
    ]


def _write_version(
    store: Store, project_id: str, dataset_id: str, version: int, pairs: Sequence[tuple[str, int]], note: str
) -> None:
    if len(pairs) > MAX_DATASET_ITEMS:
        raise ValueError(f"a dataset holds at most {MAX_DATASET_ITEMS} items")
    row = (
        project_id, dataset_id, version, [item_id for item_id, _ in pairs], [revision for _, revision in pairs],
        len(pairs), note, _now(),
    )  # fmt: skip
    store.insert_rows(VERSIONS_TABLE, VERSION_COLUMNS, [row])


def create_dataset(
    store: Store,
    project_id: str,
    *,
    name: str,
    description: str = "",
    metadata: dict[str, object] | None = None,
    items: Sequence[NewItem] = (),
    note: str = "created",
) -> DatasetInfo:
    """A new dataset whose version 1 holds `items` (possibly none)."""
    validate_project_id(project_id)
    if not name.strip() or len(name) > 200:
        raise ValueError("name must be 1 to 200 characters")
    if len(items) > MAX_DATASET_ITEMS:
        raise ValueError(f"a dataset holds at most {MAX_DATASET_ITEMS} items")
    _check_items(items)
    dataset_id = uuid.uuid4().hex
    rows = _item_rows(project_id, dataset_id, items)
    if rows:
        store.insert_rows(ITEMS_TABLE, ITEM_COLUMNS, rows)
    _write_version(store, project_id, dataset_id, 1, [(str(row[2]), 1) for row in rows], note)
    dataset_row = (project_id, dataset_id, name, description, _json(metadata or {}), _now(), time.time_ns())
    store.insert_rows(DATASETS_TABLE, DATASET_COLUMNS, [dataset_row])
    found = get_dataset(store, project_id, dataset_id)
    assert found is not None
    return found


def list_datasets(
    store: Store, project_id: str, *, limit: int = 100, offset: int = 0
) -> tuple[int, list[DatasetInfo]]:
    """(number of datasets, a page of them, newest first)."""
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise ValueError(f"limit must be within 1..{MAX_PAGE} and offset >= 0")
    parameters = {
        "project_id": validate_project_id(project_id),
        "dataset_id": None,
        "limit": limit,
        "offset": offset,
    }
    rows = list(store.query(_DATASET_SELECT, parameters).named_results())
    return (int(rows[0]["total"]) if rows else 0), [_dataset_info(row) for row in rows]


def get_dataset(store: Store, project_id: str, dataset_id: str) -> DatasetInfo | None:
    parameters = {
        "project_id": validate_project_id(project_id),
        "dataset_id": dataset_id,
        "limit": 1,
        "offset": 0,
    }
    rows = list(store.query(_DATASET_SELECT, parameters).named_results())
    return _dataset_info(rows[0]) if rows else None


def _json_object(text: object) -> dict[str, object]:
    """A stored JSON object column ({} when empty or not an object)."""
    decoded = json.loads(str(text) or "{}")
    return decoded if isinstance(decoded, dict) else {}


def _dataset_info(row: dict[str, object]) -> DatasetInfo:
    return DatasetInfo(
        dataset_id=str(row["dataset_id"]),
        name=str(row["name"]),
        description=str(row["description"]),
        metadata=_json_object(row["metadata"]),
        created_at_unix_nano=int(row["created_ms"]) * _NS_PER_MS,  # type: ignore[call-overload]
        latest_version=int(row["latest_version"]),  # type: ignore[call-overload]
        item_count=int(row["item_count"]),  # type: ignore[call-overload]
    )


def list_versions(store: Store, project_id: str, dataset_id: str) -> list[VersionInfo]:
    parameters = {"project_id": validate_project_id(project_id), "dataset_id": dataset_id}
    versions = [
        VersionInfo(
            version=int(row["version"]),
            item_count=int(row["item_count"]),
            note=str(row["note"]),
            created_at_unix_nano=int(row["created_ms"]) * _NS_PER_MS,
        )
        for row in store.query(_VERSIONS, parameters).named_results()
    ]
    if not versions:
        raise DatasetNotFound(f"dataset {dataset_id} not found in this project")
    return versions


def _version_pairs(
    store: Store, project_id: str, dataset_id: str, version: int | None
) -> tuple[int, list[tuple[str, int]]]:
    """(version number, its (item id, revision) pairs); the latest version when `version` is None."""
    parameters = {"project_id": validate_project_id(project_id), "dataset_id": dataset_id, "version": version}
    rows = store.query(_VERSION_PAIRS, parameters).result_rows
    if not rows:
        what = (
            f"version {version} of dataset {dataset_id}" if version is not None else f"dataset {dataset_id}"
        )
        raise DatasetNotFound(f"{what} not found in this project")
    number, item_ids, revisions = rows[0]
    return int(number), list(zip(item_ids, (int(revision) for revision in revisions), strict=True))


def version_items(
    store: Store,
    project_id: str,
    dataset_id: str,
    *,
    version: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> ItemPage:
    """A page of the items of `version` (default: the latest), in the version's order."""
    if not 1 <= limit <= MAX_DATASET_ITEMS or offset < 0:
        raise ValueError(f"limit must be within 1..{MAX_DATASET_ITEMS} and offset >= 0")
    number, pairs = _version_pairs(store, project_id, dataset_id, version)
    parameters = {
        "project_id": project_id, "dataset_id": dataset_id, "version": number, "limit": limit, "offset": offset,
    }  # fmt: skip
    items = [_item(row) for row in store.query(_VERSION_ITEMS, parameters).named_results()]
    return ItemPage(version=number, total=len(pairs), items=items)


def all_items(store: Store, project_id: str, dataset_id: str, *, version: int | None = None) -> ItemPage:
    """Every item of `version` (default: the latest), for export."""
    return version_items(store, project_id, dataset_id, version=version, limit=MAX_DATASET_ITEMS)


def _item(row: dict[str, object]) -> Item:
    return Item(
        input=str(row["input"]),
        output=str(row["output"]),
        expected_output=str(row["expected_output"]),
        metadata=_json_object(row["metadata"]),
        source_trace_id=str(row["source_trace_id"]),
        source_span_id=str(row["source_span_id"]),
        item_id=str(row["item_id"]),
        revision=int(row["revision"]),  # type: ignore[call-overload]
        created_at_unix_nano=int(row["created_ms"]) * _NS_PER_MS,  # type: ignore[call-overload]
    )


def add_items(
    store: Store, project_id: str, dataset_id: str, items: Sequence[NewItem], *, note: str
) -> tuple[int, list[str]]:
    """Append `items` as a new version; (the version, the new item ids)."""
    if not items:
        raise ValueError("no items to add")
    _check_items(items)
    with _dataset_lock(project_id, dataset_id):
        latest, pairs = _version_pairs(store, project_id, dataset_id, None)
        if len(pairs) + len(items) > MAX_DATASET_ITEMS:
            raise ValueError(f"a dataset holds at most {MAX_DATASET_ITEMS} items")
        rows = _item_rows(project_id, dataset_id, items)
        store.insert_rows(ITEMS_TABLE, ITEM_COLUMNS, rows)
        new_ids = [str(row[2]) for row in rows]
        _write_version(
            store, project_id, dataset_id, latest + 1, [*pairs, *((item_id, 1) for item_id in new_ids)], note
        )
    return latest + 1, new_ids


def edit_item(
    store: Store, project_id: str, dataset_id: str, item_id: str, changes: ItemChanges
) -> tuple[int, Item]:
    """Write the item's next revision with `changes` and a version holding it; (version, item)."""
    with _dataset_lock(project_id, dataset_id):
        latest, pairs = _version_pairs(store, project_id, dataset_id, None)
        position = next((index for index, (known, _) in enumerate(pairs) if known == item_id), None)
        if position is None:
            raise DatasetNotFound(f"item {item_id} is not in the latest version of dataset {dataset_id}")
        current = _current_item(store, project_id, dataset_id, latest, position)
        edited = NewItem(
            input=current.input if changes.input is None else changes.input,
            output=current.output if changes.output is None else changes.output,
            expected_output=current.expected if changes.expected_output is None else changes.expected_output,
            metadata=dict(current.metadata) if changes.metadata is None else changes.metadata,
            source_trace_id=current.source_trace_id,
            source_span_id=current.source_span_id,
        )
        _check_items([edited])
        revision = current.revision + 1
        row = (
            project_id,
            dataset_id,
            item_id,
            revision,
            *_item_rows(project_id, dataset_id, [edited])[0][4:],
        )
        store.insert_rows(ITEMS_TABLE, ITEM_COLUMNS, [row])
        pairs[position] = (item_id, revision)
        _write_version(store, project_id, dataset_id, latest + 1, pairs, f"edited item {item_id}")
    page = version_items(store, project_id, dataset_id, version=latest + 1, limit=1, offset=position)
    return latest + 1, page.items[0]


def _current_item(store: Store, project_id: str, dataset_id: str, version: int, position: int) -> Item:
    page = version_items(store, project_id, dataset_id, version=version, limit=1, offset=position)
    return page.items[0]


def remove_item(store: Store, project_id: str, dataset_id: str, item_id: str) -> int:
    """A new version without the item (older versions keep it); the new version."""
    with _dataset_lock(project_id, dataset_id):
        latest, pairs = _version_pairs(store, project_id, dataset_id, None)
        kept = [pair for pair in pairs if pair[0] != item_id]
        if len(kept) == len(pairs):
            raise DatasetNotFound(f"item {item_id} is not in the latest version of dataset {dataset_id}")
        _write_version(store, project_id, dataset_id, latest + 1, kept, f"removed item {item_id}")
    return latest + 1
