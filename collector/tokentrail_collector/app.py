"""The collector's FastAPI application: `create_app(settings)` builds it; nothing is opened at import."""

from __future__ import annotations

import gc
import logging
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware

from tokentrail_collector.analysis.drift_scheduler import DriftScheduler
from tokentrail_collector.deps import OTLP_PATH_PREFIX, Services, error_reply
from tokentrail_collector.ratelimit import KeyRateLimiter
from tokentrail_collector.retention_task import RetentionTask
from tokentrail_collector.routes import admin, datasets, drift, gpu, health, otlp, prices, query, scores
from tokentrail_collector.routes.metrics import router as metrics_router
from tokentrail_collector.routes.retention import router as retention_router
from tokentrail_collector.sampling import TailSampler
from tokentrail_collector.settings import Settings
from tokentrail_collector.storage import (
    GroupCommitWriter,
    InvalidProjectId,
    KeyStore,
    Overloaded,
    Store,
    StoreUnavailable,
)
from tokentrail_collector.storage.retention import RetentionSettings
from tokentrail_collector.telemetry import RequestMetrics, Telemetry

log = logging.getLogger("tokentrail.collector")


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> FastAPI:
    """Build the app. `store`, when given, is used as is (and not closed by the app)."""
    settings = settings or Settings()
    telemetry = Telemetry()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = open_services(settings, store, telemetry=telemetry)
        app.state.services = services
        app.state.drift_scheduler = DriftScheduler.for_store(services.store)
        app.state.drift_scheduler.start()
        app.state.retention = retention_task(settings, services)
        app.state.retention.start()
        tune_gc()
        try:
            yield
        finally:
            await app.state.retention.stop()
            await app.state.drift_scheduler.stop()
            services.writer.stop(timeout_s=30)
            if store is None:
                services.store.close()

    app = FastAPI(
        title="tokentrail collector",
        version=_version(),
        description="OTLP/HTTP ingest of LLM telemetry and the tokentrail query API.",
        lifespan=lifespan,
    )
    app.include_router(otlp.router)
    app.include_router(query.router)
    app.include_router(scores.router)
    app.include_router(datasets.router)
    app.include_router(drift.router)
    app.include_router(gpu.router)
    app.include_router(prices.router)
    app.include_router(admin.router)
    app.include_router(retention_router)
    app.include_router(health.router)
    if settings.metrics:
        app.include_router(metrics_router)
    install_middleware(app, settings, telemetry)
    install_error_handlers(app)
    return app


def install_middleware(app: FastAPI, settings: Settings, telemetry: Telemetry) -> None:
    """CORS only for the configured origins (none: no CORS headers); request counting outermost."""
    origins = settings.cors_origin_list
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Content-Encoding"],
            expose_headers=["Retry-After"],
        )
    app.add_middleware(RequestMetrics, telemetry=telemetry)


def open_services(
    settings: Settings, store: Store | None = None, *, telemetry: Telemetry | None = None
) -> Services:
    """Open the store, apply migrations, start the writer: what the app needs before the first request."""
    store = store or Store.open(settings.clickhouse_url, cluster=settings.clickhouse_cluster)
    applied = store.migrate()
    if applied:
        log.info("applied migrations: %s", ", ".join(map(str, applied)))
    writer = GroupCommitWriter(
        store,
        max_batch_rows=settings.max_batch_rows,
        max_linger_ms=settings.max_linger_ms,
        max_pending_rows=settings.max_pending_rows,
    )
    writer.start()
    telemetry = telemetry or Telemetry()
    return Services(
        settings=settings,
        store=store,
        writer=writer,
        keys=KeyStore(store),
        admin_token=load_admin_token(settings),
        telemetry=telemetry,
        rate_limiter=(
            KeyRateLimiter(settings.rate_limit_rps, settings.rate_limit_burst)
            if settings.rate_limit_rps > 0
            else None
        ),
        sampler=TailSampler.from_settings(settings, store, writer, telemetry),
    )


def tune_gc() -> None:
    """Fewer, cheaper garbage collections for the ingest path, which makes many short-lived
    containers (a dict per span and per attribute map): what start-up loaded is frozen out of
    every collection, and the youngest generation is collected after 50,000 allocations rather
    than 700 (the older ones as often as before, relative to it, so cyclic garbage still goes).
    Normalising spans costs about a fifth less CPU so (bench/README.md, Ingest)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 10, 10)


def retention_task(settings: Settings, services: Services) -> RetentionTask:
    """The background pass that removes telemetry older than each project's retention."""
    return RetentionTask(
        services.store,
        RetentionSettings(services.store, default_days=settings.retention_days),
        services.telemetry,
        interval_s=settings.retention_interval_s,
        first_delay_s=settings.retention_first_delay_s,
    )


def load_admin_token(settings: Settings) -> str:
    """The admin token from TOKENTRAIL_ADMIN_TOKEN, else one kept in a 0600 file beside the data."""
    if settings.admin_token is not None:
        return settings.admin_token.get_secret_value()
    path = settings.admin_token_file
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    token = "tta_" + secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    return token


def read_admin_token(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def install_error_handlers(app: FastAPI) -> None:
    """Store trouble is the server's temporary state, not a bug: 503/429 with Retry-After, never 500.

    Every error reply goes through `error_reply`, so those on /v1/* are OTLP Status bodies.
    """

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith(OTLP_PATH_PREFIX):
            return error_reply(request, exc.status_code, str(exc.detail), exc.headers)
        return await http_exception_handler(request, exc)

    @app.exception_handler(InvalidProjectId)
    async def invalid_project(request: Request, exc: InvalidProjectId) -> Response:
        return error_reply(request, 400, str(exc))

    @app.exception_handler(StoreUnavailable)
    async def store_unavailable(request: Request, exc: StoreUnavailable) -> Response:
        return error_reply(request, 503, f"store unavailable: {exc}", {"Retry-After": "5"})

    @app.exception_handler(Overloaded)
    async def overloaded(request: Request, exc: Overloaded) -> Response:
        retry = max(1, round(exc.retry_after_s))
        return error_reply(request, 429, "collector is behind; retry later", {"Retry-After": str(retry)})


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tokentrail")
    except PackageNotFoundError:
        return "0.0.0"
