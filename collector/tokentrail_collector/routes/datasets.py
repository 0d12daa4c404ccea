"""The datasets API (`/api/datasets`): eval datasets mined from traces, their items, versions,
export and import. Every read and write is scoped to the key's project.

Mining (preview and create) reads the spans matching a filter, removes exact and near duplicates
(the method and threshold are in `DedupeOptions` and in each dataset's metadata), samples, and
keeps the source trace and span of each item. Adding, editing, removing or importing items makes
a new version; `?version=N` reads any older one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Annotated, TypeVar

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from tokentrail_collector.analysis import datasets as mining
from tokentrail_collector.analysis import formats
from tokentrail_collector.analysis.dedupe import DedupeMethod
from tokentrail_collector.deps import ProjectDep, ServicesDep
from tokentrail_collector.models_datasets import (
    Dataset,
    DatasetCreate,
    DatasetList,
    ExportFormat,
    ImportResult,
    Item,
    ItemEdit,
    ItemEdited,
    ItemIn,
    ItemList,
    ItemPreview,
    ItemsAdded,
    MiningOptions,
    MiningReport,
    PreviewRequest,
    PreviewResponse,
    Version,
    VersionCreated,
    VersionList,
)
from tokentrail_collector.storage import datasets as store_datasets
from tokentrail_collector.storage.mining import ScoreCriterion, SpanCriteria, mine_items

router = APIRouter(prefix="/api/datasets", tags=["datasets"])
T = TypeVar("T")

MAX_IMPORT_BYTES = 64 * 1024 * 1024
DatasetId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="32 hex digits")]
ItemId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="32 hex digits")]
VersionQuery = Annotated[int | None, Query(ge=1, description="A version number; default: the latest.")]
_EXTENSION_FORMATS = {"jsonl": "jsonl", "json": "jsonl", "csv": "csv", "parquet": "parquet"}
_NOT_FOUND = {404: {"description": "No such dataset, version or item in this project"}}


def _datetime(unix_nano: int) -> datetime:
    return datetime.fromtimestamp(unix_nano / 1e9, tz=timezone.utc)


def _criteria(options: MiningOptions) -> SpanCriteria:
    found = options.filter
    score = None
    if found.score is not None:
        score = ScoreCriterion(found.score.name, found.score.value, found.score.min, found.score.max)
    return SpanCriteria(
        start=found.start,
        end=found.end,
        kinds=tuple(found.kinds),
        models=tuple(found.models),
        services=tuple(found.services),
        status=found.status,
        score=score,
        latency_percentile=found.latency_percentile,
        latency_min_ms=found.latency_min_ms,
        cost_min_usd=found.cost_min_usd,
        text=found.text,
        tags=tuple(found.tags),
        trace_ids=tuple(found.trace_ids),
        span_ids=tuple(found.span_ids),
        limit=found.limit,
    )


def _mine(
    services: ServicesDep, project_id: str, options: MiningOptions
) -> tuple[SpanCriteria, list[mining.NewItem], mining.MiningReport]:
    criteria = _criteria(options)
    dedupe = DedupeMethod(options.dedupe.threshold) if options.dedupe.enabled else None
    sample = None
    if options.sample is not None:
        sample = mining.SampleOptions(options.sample.size, options.sample.seed, options.sample.stratify_by)
    items, report = mine_items(services.store, project_id, criteria, dedupe=dedupe, sample=sample)
    return criteria, items, report


def _preview(item: mining.NewItem) -> ItemPreview:
    return ItemPreview(
        input=item.input,
        output=item.output,
        expected_output=item.expected,
        metadata=dict(item.metadata),
        source_trace_id=item.source_trace_id,
        source_span_id=item.source_span_id,
    )


def _item(item: mining.Item) -> Item:
    return Item(
        **_preview(item).model_dump(),
        item_id=item.item_id,
        revision=item.revision,
        created_at=_datetime(item.created_at_unix_nano),
    )


def _dataset(info: store_datasets.DatasetInfo) -> Dataset:
    return Dataset(
        dataset_id=info.dataset_id,
        name=info.name,
        description=info.description,
        created_at=_datetime(info.created_at_unix_nano),
        latest_version=info.latest_version,
        item_count=info.item_count,
        metadata=info.metadata,
    )


def _new_item(item: ItemIn) -> mining.NewItem:
    return mining.NewItem(
        input=item.input,
        output=item.output,
        expected_output=item.expected_output,
        metadata=item.metadata,
        source_trace_id=item.source_trace_id.lower(),
        source_span_id=item.source_span_id.lower(),
    )


@router.post("/preview", response_model=PreviewResponse)
async def preview(project_id: ProjectDep, services: ServicesDep, request: PreviewRequest) -> PreviewResponse:
    """What a dataset mined with these options would hold: the count, the report, the first items."""
    _, items, report = await _checked(lambda: _mine(services, project_id, request))
    return PreviewResponse(
        count=len(items),
        report=MiningReport(**report.as_dict()),
        items=[_preview(item) for item in items[: request.preview_items]],
    )


@router.post("", response_model=Dataset, status_code=201)
async def create_dataset(project_id: ProjectDep, services: ServicesDep, request: DatasetCreate) -> Dataset:
    """A dataset mined from spans (`mining`), or empty; its items are version 1."""
    items: list[mining.NewItem] = []
    metadata: dict[str, object] = {"created_from": "empty"}
    if request.mining is not None:
        mining_options = request.mining
        criteria, items, report = await _checked(lambda: _mine(services, project_id, mining_options))
        metadata = {"created_from": "filter", "filter": criteria.describe(), "mining": report.as_dict()}
    info = await _checked(
        lambda: store_datasets.create_dataset(
            services.store,
            project_id,
            name=request.name,
            description=request.description,
            metadata=metadata,
            items=items,
            note=f"created with {len(items)} items",
        )
    )
    return _dataset(info)


@router.get("", response_model=DatasetList)
async def list_datasets(
    project_id: ProjectDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> DatasetList:
    total, found = await run_in_threadpool(
        store_datasets.list_datasets, services.store, project_id, limit=limit, offset=offset
    )
    return DatasetList(total=total, limit=limit, offset=offset, datasets=[_dataset(info) for info in found])


@router.get("/{dataset_id}", response_model=Dataset, responses=_NOT_FOUND)
async def get_dataset(dataset_id: DatasetId, project_id: ProjectDep, services: ServicesDep) -> Dataset:
    info = await run_in_threadpool(store_datasets.get_dataset, services.store, project_id, dataset_id)
    if info is None:
        raise HTTPException(status_code=404, detail=f"dataset {dataset_id} not found in this project")
    return _dataset(info)


@router.get("/{dataset_id}/versions", response_model=VersionList, responses=_NOT_FOUND)
async def list_versions(dataset_id: DatasetId, project_id: ProjectDep, services: ServicesDep) -> VersionList:
    found = await _checked(lambda: store_datasets.list_versions(services.store, project_id, dataset_id))
    versions = [
        Version(
            version=info.version,
            item_count=info.item_count,
            note=info.note,
            created_at=_datetime(info.created_at_unix_nano),
        )
        for info in found
    ]
    return VersionList(dataset_id=dataset_id, versions=versions)


@router.get("/{dataset_id}/items", response_model=ItemList, responses=_NOT_FOUND)
async def list_items(
    dataset_id: DatasetId,
    project_id: ProjectDep,
    services: ServicesDep,
    version: VersionQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ItemList:
    page = await _checked(
        lambda: store_datasets.version_items(
            services.store, project_id, dataset_id, version=version, limit=limit, offset=offset
        )
    )
    return ItemList(
        dataset_id=dataset_id,
        version=page.version,
        total=page.total,
        limit=limit,
        offset=offset,
        items=[_item(item) for item in page.items],
    )


@router.post("/{dataset_id}/items", response_model=ItemsAdded, status_code=201, responses=_NOT_FOUND)
async def add_items(
    dataset_id: DatasetId, project_id: ProjectDep, services: ServicesDep, items: list[ItemIn]
) -> ItemsAdded:
    """Append items (a new version)."""
    new_items = [_new_item(item) for item in items]
    version, ids = await _checked(
        lambda: store_datasets.add_items(
            services.store, project_id, dataset_id, new_items, note=f"added {len(new_items)} items"
        )
    )
    return ItemsAdded(version=version, item_ids=ids)


@router.patch("/{dataset_id}/items/{item_id}", response_model=ItemEdited, responses=_NOT_FOUND)
async def edit_item(
    dataset_id: DatasetId, item_id: ItemId, project_id: ProjectDep, services: ServicesDep, edit: ItemEdit
) -> ItemEdited:
    """Edit an item (typically its expected output): a new revision of it, in a new version."""
    changes = store_datasets.ItemChanges(
        input=edit.input, output=edit.output, expected_output=edit.expected_output, metadata=edit.metadata
    )
    version, item = await _checked(
        lambda: store_datasets.edit_item(services.store, project_id, dataset_id, item_id, changes)
    )
    return ItemEdited(version=version, item=_item(item))


@router.delete("/{dataset_id}/items/{item_id}", response_model=VersionCreated, responses=_NOT_FOUND)
async def remove_item(
    dataset_id: DatasetId, item_id: ItemId, project_id: ProjectDep, services: ServicesDep
) -> VersionCreated:
    """A new version without the item; older versions keep it."""
    version = await _checked(
        lambda: store_datasets.remove_item(services.store, project_id, dataset_id, item_id)
    )
    return VersionCreated(version=version)


async def _checked(work: Callable[[], T]) -> T:
    """Run store work off the event loop: unknown dataset, version or item -> 404, bad values -> 422."""
    try:
        return await run_in_threadpool(work)
    except store_datasets.DatasetNotFound as error:
        raise HTTPException(status_code=404, detail=str(error)) from None
    except ValueError as error:
        raise HTTPException(status_code=422, detail=str(error)) from None


@router.get(
    "/{dataset_id}/export",
    responses={**_NOT_FOUND, 200: {"description": "The file", "content": {"application/octet-stream": {}}}},
)
async def export_dataset(
    dataset_id: DatasetId,
    project_id: ProjectDep,
    services: ServicesDep,
    format: Annotated[
        ExportFormat, Query(description="jsonl (eval), openai (chat fine-tuning), csv, parquet")
    ] = "jsonl",  # noqa: A002
    version: VersionQuery = None,
) -> Response:
    info = await run_in_threadpool(store_datasets.get_dataset, services.store, project_id, dataset_id)
    if info is None:
        raise HTTPException(status_code=404, detail=f"dataset {dataset_id} not found in this project")
    page = await _checked(
        lambda: store_datasets.all_items(services.store, project_id, dataset_id, version=version)
    )
    body = await run_in_threadpool(formats.export_items, page.items, format)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", info.name).strip("-.") or "dataset"
    filename = f"{stem}-v{page.version}.{formats.EXTENSIONS[format]}"
    return Response(
        body,
        media_type=formats.MEDIA_TYPES[format],
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Dataset-Version": str(page.version),
        },
    )


@router.post(
    "/{dataset_id}/import",
    response_model=ImportResult,
    status_code=201,
    responses={
        **_NOT_FOUND,
        400: {"description": "The file is not valid; the message names the line or row"},
    },
)
async def import_items(
    dataset_id: DatasetId,
    project_id: ProjectDep,
    services: ServicesDep,
    request: Request,
    format: Annotated[  # noqa: A002
        ExportFormat | None, Query(description="Default: from the uploaded file's extension.")
    ] = None,
) -> ImportResult:
    """Import items from a file (multipart field `file`, or the raw request body): all or nothing."""
    data, filename = await _upload(request)
    fmt = format or _format_of(filename)
    if fmt is None:
        raise HTTPException(status_code=400, detail="say the file's format: ?format=jsonl|openai|csv|parquet")
    try:
        items = await run_in_threadpool(formats.parse_items, data, fmt)
    except formats.ImportFormatError as error:
        raise HTTPException(status_code=400, detail=f"invalid {fmt} file: {error}") from None
    if not items:
        raise HTTPException(status_code=400, detail=f"the {fmt} file holds no items")
    version, ids = await _checked(
        lambda: store_datasets.add_items(
            services.store, project_id, dataset_id, items, note=f"imported {len(items)} items ({fmt})"
        )
    )
    return ImportResult(version=version, imported=len(ids), item_ids=ids)


async def _upload(request: Request) -> tuple[bytes, str | None]:
    """The uploaded bytes and file name, from a multipart form (field `file`) or the raw body."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_IMPORT_BYTES:
        raise HTTPException(status_code=413, detail=f"the file is larger than {MAX_IMPORT_BYTES} bytes")
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_part_size=MAX_IMPORT_BYTES)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise HTTPException(status_code=400, detail="send the file in a multipart field named 'file'")
        data = await upload.read(MAX_IMPORT_BYTES + 1)
        filename = upload.filename
    else:
        received = bytearray()
        async for chunk in request.stream():
            received += chunk
            if len(received) > MAX_IMPORT_BYTES:
                break
        data, filename = bytes(received), None
    if len(data) > MAX_IMPORT_BYTES:
        raise HTTPException(status_code=413, detail=f"the file is larger than {MAX_IMPORT_BYTES} bytes")
    return data, filename


def _format_of(filename: str | None) -> str | None:
    if not filename or "." not in filename:
        return None
    return _EXTENSION_FORMATS.get(filename.rsplit(".", 1)[1].lower())
