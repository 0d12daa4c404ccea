"""ClickHouse's own system logs stay bounded, and retention's SQL parses in ClickHouse in both modes.

chDB (measured here): it creates no system log tables at all (no query_log, trace_log, metric_log,
part_log, ...), so an idle or busy embedded store does not grow by itself. A server does keep them:
deploy/clickhouse/system-log-ttl.xml gives each a TTL, in the only shape the server accepts.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from tokentrail_collector.storage import retention_sql as rsql

PROBE = Path(__file__).with_name("chdb_probe.py")
SYSTEM_LOG_TTL = Path(__file__).parents[2] / "deploy" / "clickhouse" / "system-log-ttl.xml"
# Columns enough for CREATE TABLE to carry an engine clause of the config through the parser.
_LOG_COLUMNS = "(event_date Date, finish_date Date, finish_time_us UInt64, trace_id UUID)"


def probe(*args: str, stdin: str | None = None) -> object:
    done = subprocess.run(
        [sys.executable, str(PROBE), *args], input=stdin, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def retention_statements() -> list[str]:
    statements = [rsql.RETENTION_ALL, rsql.RETENTION_OF_PROJECT, rsql.PROJECT_HAS_KEYS]
    for table in rsql.PRUNED_TABLES:
        statements.append(rsql.expired_by_project(table.name))
        for cluster in (None, "tokentrail_cluster"):
            statements.append(rsql.delete_expired(table.name, cluster))
            if table.monthly:
                statements.append(rsql.drop_partition(table.name, cluster))
        if table.monthly:
            statements.append(rsql.expired_months(table.name))
    return statements


def system_logs() -> list[ElementTree.Element]:
    return list(ElementTree.parse(SYSTEM_LOG_TTL).getroot())


def test_retention_statements_parse_in_both_modes(tmp_path: Path) -> None:
    statements = retention_statements()
    formatted = probe("parse", str(tmp_path / "parse"), stdin=json.dumps(statements))
    assert isinstance(formatted, list) and len(formatted) == len(statements)
    on_cluster = [text for text in formatted if "ON CLUSTER" in text]
    # DELETE and DROP PARTITION of every pruned table (all but scores are monthly) reach the local tables.
    assert len(on_cluster) == len(rsql.PRUNED_TABLES) + sum(t.monthly for t in rsql.PRUNED_TABLES)
    assert all("_local ON CLUSTER tokentrail_cluster" in text for text in on_cluster)
    assert "DELETE FROM spans_local ON CLUSTER tokentrail_cluster" in " ".join(on_cluster)


def test_datasets_and_settings_are_never_pruned() -> None:
    pruned = {table.name for table in rsql.PRUNED_TABLES}
    assert pruned == {"spans", "span_content", "gpu_metrics", "scores", "drift_results"}
    for kept in (
        "datasets",
        "dataset_items",
        "dataset_versions",
        "api_keys",
        "custom_prices",
        "drift_monitors",
    ):
        with pytest.raises(ValueError, match="does not prune"):
            rsql.delete_expired(kept)


def test_chdb_keeps_no_system_logs_so_queries_do_not_grow_the_store(tmp_path: Path) -> None:
    """Measured: 3,000 queries on a migrated store leave no system log table and no growth."""
    report = probe("system-logs", str(tmp_path / "logs"), "3000")
    assert isinstance(report, dict)
    assert report["tables"] == []
    assert report["after"] - report["before"] < 64 * 1024, report


def test_every_server_system_log_has_a_ttl_in_a_shape_the_server_accepts() -> None:
    logs = system_logs()
    names = {log.tag for log in logs}
    assert {"query_log", "trace_log", "metric_log", "part_log", "text_log", "opentelemetry_span_log"} <= names
    for log in logs:
        engine, ttl = log.find("engine"), log.find("ttl")
        if engine is None:
            assert ttl is not None and "INTERVAL" in (ttl.text or ""), log.tag
            continue
        # A <ttl> beside an <engine> (here or in the stock config it merges into) stops the
        # server at start-up: the section must replace the stock one and hold its TTL in the engine.
        assert ttl is None, log.tag
        assert log.get("replace") == "1", log.tag
        assert " TTL " in (engine.text or ""), log.tag


def test_the_engine_clauses_of_the_system_log_config_parse(tmp_path: Path) -> None:
    engines = [log.find("engine") for log in system_logs()]
    statements = [
        f"CREATE TABLE system_log_probe {_LOG_COLUMNS} {engine.text}"
        for engine in engines
        if engine is not None
    ]
    assert statements
    formatted = probe("parse", str(tmp_path / "engines"), stdin=json.dumps(statements))
    assert isinstance(formatted, list)
    assert all("TTL finish_date + toIntervalDay(3)" in text for text in formatted), formatted
