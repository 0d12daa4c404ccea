"""Request dependencies, typed once: the collector's services, the caller's project, the admin check."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from tokentrail_collector.otlp._response import encode_error_status
from tokentrail_collector.ratelimit import KeyRateLimiter
from tokentrail_collector.sampling import TailSampler
from tokentrail_collector.settings import Settings
from tokentrail_collector.storage import GroupCommitWriter, KeyStore, Store
from tokentrail_collector.storage.keys import hash_key
from tokentrail_collector.telemetry import Telemetry


@dataclass(frozen=True, slots=True)
class Services:
    """What the app's lifespan opened; one per app."""

    settings: Settings
    store: Store
    writer: GroupCommitWriter
    keys: KeyStore
    admin_token: str
    telemetry: Telemetry = field(default_factory=Telemetry)
    rate_limiter: KeyRateLimiter | None = None  # None: no per-key limit
    sampler: TailSampler | None = None  # None: tail sampling off, every span stored


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


OTLP_PATH_PREFIX = "/v1/"


def error_reply(
    request: Request, status_code: int, detail: str, headers: Mapping[str, str] | None = None
) -> Response:
    """The one shape of an error reply: on the OTLP endpoints (/v1/*) a google.rpc.Status in the
    request's encoding, as OTLP/HTTP asks of every error, the refused key's 401 and the 429/503 of
    an overloaded collector included; elsewhere the API's JSON `{"detail": ...}`."""
    if request.url.path.startswith(OTLP_PATH_PREFIX):
        payload, media_type = encode_error_status(detail, request.headers.get("content-type"), status_code)
        return Response(payload, status_code=status_code, media_type=media_type, headers=headers)
    return JSONResponse({"detail": detail}, status_code=status_code, headers=headers)


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            status_code=401,
            detail="missing API key: send 'Authorization: Bearer <key>' (create one with 'tokentrail keys create')",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token.strip()


async def current_project(request: Request, services: ServicesDep) -> str:
    """The project named by the caller's API key; every read and write is scoped to it."""
    token = bearer_token(request)
    project_id = await run_in_threadpool(services.keys.resolve, token)
    if project_id is None:
        raise HTTPException(
            status_code=401,
            detail="API key refused: unknown or revoked",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if services.rate_limiter is not None:
        wait_s = services.rate_limiter.acquire(hash_key(token))
        if wait_s is not None:
            services.telemetry.rate_limited()
            raise HTTPException(
                status_code=429,
                detail=f"rate limit of this API key exceeded; retry in {wait_s} s",
                headers={"Retry-After": str(wait_s)},
            )
    return project_id


ProjectDep = Annotated[str, Depends(current_project)]


def require_admin(request: Request, services: ServicesDep) -> None:
    token = bearer_token(request)
    if not hmac.compare_digest(token.encode(), services.admin_token.encode()):
        raise HTTPException(status_code=403, detail="admin token refused")


AdminDep = Annotated[None, Depends(require_admin)]
