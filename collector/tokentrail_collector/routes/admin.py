"""Key management for the CLI while the collector owns the store: `/api/admin/keys`, admin token only."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from starlette.concurrency import run_in_threadpool

from tokentrail_collector.deps import AdminDep, ServicesDep
from tokentrail_collector.models import KeyCreated, KeyCreateRequest, KeyInfo

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.post("/keys", response_model=KeyCreated, status_code=201)
async def create_key(body: KeyCreateRequest, _: AdminDep, services: ServicesDep) -> KeyCreated:
    created = await run_in_threadpool(services.keys.create, body.project_id, body.name)
    return KeyCreated.model_validate(created, from_attributes=True)


@router.get("/keys", response_model=list[KeyInfo])
async def list_keys(_: AdminDep, services: ServicesDep, project_id: str | None = None) -> list[KeyInfo]:
    keys = await run_in_threadpool(services.keys.list, project_id)
    return [KeyInfo.model_validate(key, from_attributes=True) for key in keys]


@router.delete("/keys/{key_id}", status_code=204)
async def revoke_key(key_id: str, _: AdminDep, services: ServicesDep) -> None:
    if not await run_in_threadpool(services.keys.revoke, key_id):
        raise HTTPException(status_code=404, detail=f"no active key with id {key_id!r}")
