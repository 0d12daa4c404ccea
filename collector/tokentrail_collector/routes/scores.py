"""The scores API: `POST /api/scores` (one or a list; upsert by score id), `GET /api/scores`,
`GET /api/scores/stats`. Every read and write is scoped to the key's project."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, HTTPException, Query
from starlette.concurrency import run_in_threadpool

from tokentrail_collector.deps import ProjectDep, ServicesDep
from tokentrail_collector.models_scores import (
    ScoreIn,
    ScoreList,
    ScoreSourceName,
    ScoreStatsResponse,
    ScoresWritten,
)
from tokentrail_collector.routes.query import End, Start, check_window
from tokentrail_collector.sampling import Reason
from tokentrail_collector.storage import scores as score_store

router = APIRouter(prefix="/api/scores", tags=["scores"])

ScoreName = Annotated[str | None, Query(max_length=200, description="Score name.")]
Source = Annotated[ScoreSourceName | None, Query(description="Who scored.")]


@router.post("", response_model=ScoresWritten)
async def write_scores(
    project_id: ProjectDep,
    services: ServicesDep,
    body: Annotated[ScoreIn | list[ScoreIn], Body(description="One score or a list (at most 1000).")],
) -> ScoresWritten:
    incoming = body if isinstance(body, list) else [body]
    if len(incoming) > score_store.MAX_SCORES_PER_REQUEST:
        raise HTTPException(
            status_code=413, detail=f"at most {score_store.MAX_SCORES_PER_REQUEST} scores per request"
        )
    scores = [
        score_store.ScoreInput(
            name=score.name,
            value=score.value,
            trace_id=score.trace_id,
            span_id=score.span_id,
            comment=score.comment,
            source=score.source,
            score_id=score.score_id,
            timestamp=score.timestamp,
        )
        for score in incoming
    ]
    sampler = services.sampler
    if sampler is not None:
        # Tail sampling: a low score keeps its whole trace. Before the scores are written, so that
        # a client retrying after a failure here does not write a score without an id twice.
        low = [score.trace_id for score in scores if sampler.policy.is_low(score.value)]
        if low:
            await sampler.keep_traces(project_id, low, Reason.LOW_SCORE)
    try:
        ids = await run_in_threadpool(score_store.write_scores, services.store, project_id, scores)
    except ValueError as error:
        raise HTTPException(status_code=422, detail=str(error)) from None
    return ScoresWritten(score_ids=ids)


@router.get("", response_model=ScoreList)
async def list_scores(
    project_id: ProjectDep,
    services: ServicesDep,
    trace_id: Annotated[str | None, Query(pattern=r"^[0-9a-fA-F]{32}$")] = None,
    span_id: Annotated[
        str | None, Query(pattern=r"^([0-9a-fA-F]{16})?$", description='"" for scores of whole traces.')
    ] = None,
    name: ScoreName = None,
    source: Source = None,
    start: Start = None,
    end: End = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ScoreList:
    check_window(start, end)
    page = await run_in_threadpool(
        score_store.list_scores,
        services.store,
        project_id,
        trace_id=trace_id,
        span_id=span_id,
        name=name,
        source=source,
        start=start,
        end=end,
        limit=limit,
        offset=offset,
    )
    return ScoreList(total=page.total, limit=limit, offset=offset, scores=page.scores)


@router.get("/stats", response_model=ScoreStatsResponse)
async def score_stats(
    project_id: ProjectDep,
    services: ServicesDep,
    name: ScoreName = None,
    source: Source = None,
    start: Start = None,
    end: End = None,
    group_by: Annotated[
        Literal["model", "provider", "service", "source", "none"],
        Query(description="Group by the scored span's (else its trace's) model, provider or service."),
    ] = "model",
    bucket_seconds: Annotated[
        int | None, Query(ge=1, le=366 * 86400, description="Time bucket width (e.g. 86400: per day).")
    ] = None,
) -> ScoreStatsResponse:
    check_window(start, end)
    grouping = None if group_by == "none" else group_by
    rows = await run_in_threadpool(
        score_store.score_stats,
        services.store,
        project_id,
        name=name,
        source=source,
        start=start,
        end=end,
        group_by=grouping,
        bucket_seconds=bucket_seconds,
    )
    return ScoreStatsResponse(group_by=grouping, bucket_seconds=bucket_seconds, rows=rows)
