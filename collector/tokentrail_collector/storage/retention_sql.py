"""SQL of retention (storage/retention.py), every value a server-side `{name:Type}` parameter.

The tables retention prunes are a fixed whitelist, `PRUNED_TABLES`: their names and time columns
(and, in cluster mode, the validated cluster name) are the only identifiers put into these
statements, chosen here by name; no caller-supplied text becomes SQL. Datasets, keys, prices and
drift monitors are curated by people and never pruned.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Final

from tokentrail_collector.storage.cluster import LOCAL_SUFFIX, validate_cluster_name

RETENTION_TABLE: Final = "project_retention"
RETENTION_COLUMNS: Final = ("project_id", "retention_days", "deleted", "updated_at", "version")

RETENTION_ALL: Final = """
SELECT project_id, retention_days, updated_at, version
FROM project_retention FINAL
WHERE NOT deleted
ORDER BY project_id
"""
RETENTION_OF_PROJECT: Final = """
SELECT project_id, retention_days, deleted, updated_at, version
FROM project_retention FINAL
WHERE project_id = {project_id:String}
"""
PROJECT_HAS_KEYS: Final = "SELECT count() FROM api_keys WHERE project_id = {project_id:String}"


@dataclass(frozen=True)
class PrunedTable:
    """A table of telemetry that retention prunes by the time of its rows.

    `monthly`: partitioned by `toYYYYMM(time_column)`, so a month that has expired for every
    project is dropped as a whole partition (cheap) instead of deleted row by row.
    """

    name: str
    time_column: str
    monthly: bool


PRUNED_TABLES: Final = (
    PrunedTable("spans", "start_time", monthly=True),
    PrunedTable("span_content", "time_unix_nano", monthly=True),
    PrunedTable("gpu_metrics", "time_unix_nano", monthly=True),
    PrunedTable("scores", "timestamp", monthly=False),
    PrunedTable("drift_results", "evaluated_at", monthly=True),
)
_PRUNED_BY_NAME: Final = {table.name: table for table in PRUNED_TABLES}

# Rows older than their project's cutoff, per project. `transform` maps a project to its cutoff in
# nanoseconds (the default cutoff for projects without their own; Int64 min: kept forever); the
# plain bound before it lets ClickHouse skip partitions newer than every cutoff.
_EXPIRED_BY_PROJECT: Final = """
SELECT project_id, count() AS expired
FROM {table}
WHERE {time} < {{latest_cutoff:DateTime64(9, 'UTC')}}
  AND toUnixTimestamp64Nano(toDateTime64({time}, 9, 'UTC')) < transform(project_id,
      {{projects:Array(String)}}, {{cutoffs_ns:Array(Int64)}}, {{default_cutoff_ns:Int64}})
GROUP BY project_id
ORDER BY project_id
"""

# The months wholly before `before` (the start of the month of the earliest cutoff of all), with
# their row counts: those partitions hold nothing any project keeps.
_EXPIRED_MONTHS: Final = """
SELECT toString(toYYYYMM({time})) AS partition_id, count() AS row_count
FROM {table}
WHERE {time} < {{before:DateTime64(9, 'UTC')}}
GROUP BY partition_id
ORDER BY partition_id
"""

_DROP_PARTITION: Final = "ALTER TABLE {target} DROP PARTITION ID {{partition_id:String}}"

# A lightweight delete: rows are masked at once and removed from disk by later merges.
_DELETE_EXPIRED: Final = """
DELETE FROM {target}
WHERE project_id = {{project_id:String}} AND {time} < {{cutoff:DateTime64(9, 'UTC')}}
"""


def pruned_table(name: str) -> PrunedTable:
    table = _PRUNED_BY_NAME.get(name)
    if table is None:
        raise ValueError(f"retention does not prune {name!r}: expected one of {sorted(_PRUNED_BY_NAME)}")
    return table


@cache
def expired_by_project(table: str) -> str:
    pruned = pruned_table(table)
    return _EXPIRED_BY_PROJECT.format(table=pruned.name, time=pruned.time_column)


@cache
def expired_months(table: str) -> str:
    pruned = pruned_table(table)
    if not pruned.monthly:
        raise ValueError(f"{table} is not partitioned by month")
    return _EXPIRED_MONTHS.format(table=pruned.name, time=pruned.time_column)


@cache
def drop_partition(table: str, cluster: str | None = None) -> str:
    """On a cluster: the replicated local table on every node (a Distributed table has no parts)."""
    pruned = pruned_table(table)
    if not pruned.monthly:
        raise ValueError(f"{table} is not partitioned by month")
    return _DROP_PARTITION.format(target=_target(pruned, cluster))


@cache
def delete_expired(table: str, cluster: str | None = None) -> str:
    pruned = pruned_table(table)
    return _DELETE_EXPIRED.format(target=_target(pruned, cluster), time=pruned.time_column)


def _target(table: PrunedTable, cluster: str | None) -> str:
    if cluster is None:
        return table.name
    return f"{table.name}{LOCAL_SUFFIX} ON CLUSTER {validate_cluster_name(cluster)}"
