"""Storage of the collector: the ClickHouse store, group-commit writer, API keys and queries.

No web framework here: the HTTP layer maps StoreUnavailable to 503, Overloaded to 429 with
Retry-After and InvalidProjectId / ValueError to 400.
"""

from tokentrail_collector.storage.errors import InvalidProjectId, Overloaded, StoreError, StoreUnavailable
from tokentrail_collector.storage.keys import CreatedKey, KeyInfo, KeyStore
from tokentrail_collector.storage.queries import TracePage, get_trace, list_traces, stats
from tokentrail_collector.storage.store import Store
from tokentrail_collector.storage.validation import TimeBound, validate_project_id
from tokentrail_collector.storage.writer import GroupCommitWriter, WriterStats

__all__ = [
    "CreatedKey",
    "GroupCommitWriter",
    "InvalidProjectId",
    "KeyInfo",
    "KeyStore",
    "Overloaded",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "TimeBound",
    "TracePage",
    "WriterStats",
    "get_trace",
    "list_traces",
    "stats",
    "validate_project_id",
]
