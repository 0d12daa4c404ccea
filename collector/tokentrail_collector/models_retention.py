"""Pydantic models of the retention admin API (`/api/admin/.../retention`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from tokentrail_collector.storage.retention import MAX_RETENTION_DAYS, ProjectRetention, RetentionPass


class RetentionIn(BaseModel):
    days: int = Field(
        strict=True,
        ge=0,
        le=MAX_RETENTION_DAYS,
        description="Days of the project's telemetry to keep; 0 keeps it forever.",
    )


class ProjectRetentionOut(BaseModel):
    project_id: str
    days: int = Field(description="Days kept; 0: forever.")
    source: Literal["project", "default"] = Field(
        description="project: the project's own setting; default: the collector's TOKENTRAIL_RETENTION_DAYS."
    )
    default_days: int
    updated_at: datetime | None = None

    @classmethod
    def of(cls, item: ProjectRetention) -> ProjectRetentionOut:
        return cls(
            project_id=item.project_id,
            days=item.days,
            source=item.source,
            default_days=item.default_days,
            updated_at=item.updated_at,
        )


class TablePassOut(BaseModel):
    table: str
    rows_removed: int
    partitions_dropped: int = Field(
        description="Month partitions dropped whole (their rows are in rows_removed)."
    )
    deleted_by_project: dict[str, int] = Field(description="Rows removed by DELETE, per project.")


class RetentionPassOut(BaseModel):
    started_at: datetime
    duration_s: float
    rows_removed: int
    tables: list[TablePassOut]

    @classmethod
    def of(cls, result: RetentionPass) -> RetentionPassOut:
        return cls(
            started_at=result.started_at,
            duration_s=result.duration_s,
            rows_removed=result.rows_removed,
            tables=[
                TablePassOut(
                    table=table.table,
                    rows_removed=table.rows_removed,
                    partitions_dropped=table.partitions_dropped,
                    deleted_by_project=table.deleted_by_project,
                )
                for table in result.tables
            ],
        )


class RetentionOverviewOut(BaseModel):
    default_days: int
    interval_s: float
    projects: list[ProjectRetentionOut] = Field(description="Projects with their own retention.")
    last_pass: RetentionPassOut | None = None
