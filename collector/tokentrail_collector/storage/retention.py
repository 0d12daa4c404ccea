"""Retention: how long each project's telemetry is kept, and the pass that removes what is older.

A project keeps `TOKENTRAIL_RETENTION_DAYS` (the collector's default) unless it has its own
number of days in `project_retention`; 0 keeps forever. A pass computes each project's cutoff
from the settings in force *now*, so a change applies to the rows already stored at the next pass.

A pass prunes every table of `retention_sql.PRUNED_TABLES` in two steps:
1. months that have expired for every project that is or could be in them (before the earliest
   cutoff of the default and of every project's own) are dropped as whole partitions: no rows to
   rewrite, space freed at once;
2. what remains expired is removed per project with a lightweight `DELETE` (rows masked at
   once, freed by later merges), only where a count found rows to remove, so an idle pass
   creates no mutations.
A partition that cannot be dropped (a server whose parser refuses the parameter) is left to step 2.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from tokentrail_collector.storage import retention_sql as rsql
from tokentrail_collector.storage.errors import StoreUnavailable
from tokentrail_collector.storage.store import Store
from tokentrail_collector.storage.validation import MIN_TIME_NS, validate_project_id

logger = logging.getLogger(__name__)

MAX_RETENTION_DAYS = 36_500  # a hundred years: cutoffs stay inside DateTime64(9)'s range
_KEEP_FOREVER_NS = -(2**63)  # a cutoff nothing is older than


class UnknownProject(LookupError):
    """A retention setting for a project that has no API key: probably a typo."""


@dataclass(frozen=True)
class ProjectRetention:
    project_id: str
    days: int  # 0: kept forever
    source: Literal["project", "default"]  # its own setting, or the collector's default
    default_days: int
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Cutoffs:
    """What a pass removes: rows older than their project's cutoff (None: kept forever)."""

    default: datetime | None
    projects: Mapping[str, datetime | None]

    def of(self, project_id: str) -> datetime | None:
        return self.projects.get(project_id, self.default)

    def latest(self) -> datetime | None:
        """The latest finite cutoff: nothing at or after it is expired for anyone."""
        finite = [cutoff for cutoff in (self.default, *self.projects.values()) if cutoff is not None]
        return max(finite, default=None)

    def earliest(self) -> datetime | None:
        """The earliest cutoff of all; None when anything is kept forever."""
        everything = [self.default, *self.projects.values()]
        if any(cutoff is None for cutoff in everything):
            return None
        return min(cutoff for cutoff in everything if cutoff is not None)


@dataclass
class TablePass:
    table: str
    partitions_dropped: int = 0
    rows_dropped: int = 0  # rows of the dropped partitions
    rows_deleted: int = 0  # rows removed by DELETE
    deleted_by_project: dict[str, int] = field(default_factory=dict)

    @property
    def rows_removed(self) -> int:
        return self.rows_dropped + self.rows_deleted


@dataclass
class RetentionPass:
    started_at: datetime
    duration_s: float = 0.0
    tables: list[TablePass] = field(default_factory=list)

    @property
    def rows_removed(self) -> int:
        return sum(table.rows_removed for table in self.tables)


class RetentionSettings:
    """Reads and writes the per-project retention of `project_retention`."""

    def __init__(self, store: Store, *, default_days: int) -> None:
        self._store = store
        self.default_days = _checked_days(default_days)

    def get(self, project_id: str) -> ProjectRetention:
        """A project's retention; UnknownProject when no key names it."""
        self._check_known(project_id)
        latest = self._latest_row(project_id)
        if latest is None or latest["deleted"]:
            return ProjectRetention(project_id, self.default_days, "default", self.default_days)
        return ProjectRetention(
            project_id, int(latest["retention_days"]), "project", self.default_days, latest["updated_at"]
        )

    def overrides(self) -> list[ProjectRetention]:
        """Every project with its own setting."""
        return [
            ProjectRetention(
                str(row["project_id"]),
                int(row["retention_days"]),
                "project",
                self.default_days,
                row["updated_at"],
            )
            for row in self._store.query(rsql.RETENTION_ALL).named_results()
        ]

    def set(self, project_id: str, days: int) -> ProjectRetention:
        """Give a project its own retention; UnknownProject when no key names it."""
        self._write(project_id, _checked_days(days), deleted=False)
        return self.get(project_id)

    def reset(self, project_id: str) -> ProjectRetention:
        """Back to the collector's default."""
        self._write(project_id, 0, deleted=True)
        return self.get(project_id)

    def cutoffs(self, now: datetime) -> Cutoffs:
        return Cutoffs(
            default=_cutoff(now, self.default_days),
            projects={item.project_id: _cutoff(now, item.days) for item in self.overrides()},
        )

    def _check_known(self, project_id: str) -> None:
        validate_project_id(project_id)
        [[keys]] = self._store.query(rsql.PROJECT_HAS_KEYS, {"project_id": project_id}).result_rows
        if not keys:
            raise UnknownProject(
                f"unknown project {project_id!r}: no API key names it (create one with 'tokentrail keys create')"
            )

    def _write(self, project_id: str, days: int, *, deleted: bool) -> None:
        self._check_known(project_id)
        latest = self._latest_row(project_id)
        version = max(time.time_ns(), int(latest["version"]) + 1 if latest else 0)
        row = (project_id, days, deleted, _now_ms(), version)
        self._store.insert_rows(rsql.RETENTION_TABLE, rsql.RETENTION_COLUMNS, [row])

    def _latest_row(self, project_id: str) -> dict[str, Any] | None:
        rows = list(self._store.query(rsql.RETENTION_OF_PROJECT, {"project_id": project_id}).named_results())
        return rows[0] if rows else None


def enforce(store: Store, cutoffs: Cutoffs, *, now: datetime | None = None) -> RetentionPass:
    """One pass over every pruned table; raises StoreUnavailable when the store fails."""
    started = time.monotonic()
    result = RetentionPass(started_at=now or datetime.now(timezone.utc))
    if cutoffs.latest() is None:  # everything is kept forever
        return result
    for table in rsql.PRUNED_TABLES:
        table_pass = TablePass(table.name)
        if table.monthly:
            _drop_expired_months(store, table.name, cutoffs, table_pass)
        _delete_expired(store, table.name, cutoffs, table_pass)
        result.tables.append(table_pass)
    result.duration_s = time.monotonic() - started
    return result


def _drop_expired_months(store: Store, table: str, cutoffs: Cutoffs, out: TablePass) -> None:
    earliest = cutoffs.earliest()
    if earliest is None:
        return
    before = earliest.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    months = store.query(rsql.expired_months(table), {"before": before}).result_rows
    for partition_id, row_count in months:
        try:
            store.command(rsql.drop_partition(table, store.cluster), {"partition_id": partition_id})
        except StoreUnavailable as exc:
            logger.warning("retention: could not drop %s partition %s (rows deleted instead): %s",
                           table, partition_id, exc)  # fmt: skip
            continue
        out.partitions_dropped += 1
        out.rows_dropped += int(row_count)


def _delete_expired(store: Store, table: str, cutoffs: Cutoffs, out: TablePass) -> None:
    latest = cutoffs.latest()
    if latest is None:
        return
    projects = sorted(cutoffs.projects)
    parameters = {
        "latest_cutoff": latest,
        "projects": projects,
        "cutoffs_ns": [_ns(cutoffs.projects[project]) for project in projects],
        "default_cutoff_ns": _ns(cutoffs.default),
    }
    expired = store.query(rsql.expired_by_project(table), parameters).result_rows
    for project_id, count in expired:
        cutoff = cutoffs.of(project_id)
        if not count or cutoff is None:
            continue
        store.command(rsql.delete_expired(table, store.cluster), {"project_id": project_id, "cutoff": cutoff})
        out.rows_deleted += int(count)
        out.deleted_by_project[project_id] = int(count)


def _cutoff(now: datetime, days: int) -> datetime | None:
    return None if days == 0 else now - timedelta(days=days)


def _ns(cutoff: datetime | None) -> int:
    if cutoff is None:
        return _KEEP_FOREVER_NS
    delta = cutoff - datetime(1970, 1, 1, tzinfo=timezone.utc)
    ns = (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
    return max(ns, MIN_TIME_NS)


def _checked_days(days: int) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_RETENTION_DAYS:
        raise ValueError(
            f"retention must be a whole number of days from 0 (keep forever) to {MAX_RETENTION_DAYS}"
        )
    return days


def _now_ms() -> datetime:
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
