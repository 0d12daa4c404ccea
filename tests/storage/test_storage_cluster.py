"""Cluster mode: every migration statement, single-node and rewritten for a cluster, parses in ClickHouse."""

from __future__ import annotations

import pytest

from tokentrail_collector.storage import Store, StoreUnavailable, sql
from tokentrail_collector.storage.cluster import for_cluster, sharding_key
from tokentrail_collector.storage.schema import shipped_migrations

SINGLE_NODE = [sql.CREATE_SCHEMA_MIGRATIONS] + [s for m in shipped_migrations() for s in m.statements]


def formatted(store: Store, statement: str) -> str:
    """ClickHouse's own parser on `statement` (it raises on a syntax error)."""
    [[text]] = store.query("SELECT formatQuery({statement:String})", {"statement": statement}).result_rows
    return text


@pytest.mark.parametrize("statement", SINGLE_NODE, ids=lambda s: " ".join(s.split())[:60])
def test_every_statement_parses_in_both_modes(store: Store, statement: str) -> None:
    formatted(store, statement)
    rewritten = for_cluster(statement, "tokentrail_cluster")
    for text in rewritten:
        parsed = formatted(store, text)
        assert "ON CLUSTER tokentrail_cluster" in parsed
    if statement.lstrip("-\n ").upper().startswith("CREATE") or "CREATE TABLE" in statement:
        local, distributed = (formatted(store, text) for text in rewritten)
        assert "ENGINE = Replicated" in local and "'{replica}'" in local
        assert "ENGINE = Distributed(tokentrail_cluster, currentDatabase()," in distributed


def test_span_data_is_sharded_by_trace_and_other_tables_by_identity() -> None:
    spans = next(s for s in SINGLE_NODE if "CREATE TABLE IF NOT EXISTS spans\n" in s)
    assert sharding_key("spans", spans) == "cityHash64(project_id, trace_id)"
    keys = next(s for s in SINGLE_NODE if "api_keys" in s)
    assert sharding_key("api_keys", keys) == "cityHash64(key_id)"


def test_column_changes_reach_the_distributed_table_too() -> None:
    add = for_cluster("ALTER TABLE spans ADD COLUMN IF NOT EXISTS x UInt8", "c")
    assert add == [
        "ALTER TABLE spans_local ON CLUSTER c ADD COLUMN IF NOT EXISTS x UInt8",
        "ALTER TABLE spans ON CLUSTER c ADD COLUMN IF NOT EXISTS x UInt8",
    ]
    ttl = for_cluster("ALTER TABLE spans MODIFY TTL toDateTime(start_time) + INTERVAL 30 DAY", "c")
    assert ttl == ["ALTER TABLE spans_local ON CLUSTER c MODIFY TTL toDateTime(start_time) + INTERVAL 30 DAY"]


def test_unknown_statement_shapes_and_bad_names_are_refused() -> None:
    with pytest.raises(ValueError, match="cannot rewrite"):
        for_cluster("CREATE VIEW v AS SELECT 1", "c")
    with pytest.raises(ValueError, match="cluster name"):
        for_cluster(SINGLE_NODE[0], "c; DROP TABLE spans")
    with pytest.raises(StoreUnavailable, match="server store"):
        Store.open("chdb:///tmp/never-opened", cluster="c")
