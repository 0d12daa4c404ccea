"""Store: opening, migrations, health, and exact round trips of canonical rows."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from tokentrail import semconv as sc
from tokentrail_collector.storage import Store, StoreUnavailable, get_trace
from tokentrail_collector.storage.schema import shipped_migrations, split_statements

SpanFactory = Callable[..., dict[str, object]]


def _run_python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_migrations_are_applied_once_and_recorded(store: Store) -> None:
    rows = store.query(
        "SELECT version, name, count() FROM schema_migrations GROUP BY version, name ORDER BY version"
    )
    shipped = [(m.version, m.name) for m in shipped_migrations()]
    assert [(version, name) for version, name, _count in rows.result_rows] == shipped
    assert shipped[:2] == [(1, "spans"), (2, "api_keys")]

    assert store.migrate() == []
    again = store.query(
        "SELECT version, count() FROM schema_migrations FINAL GROUP BY version ORDER BY version"
    )
    assert [count for _version, count in again.result_rows] == [1] * len(shipped)


def test_spans_table_follows_the_canonical_columns(store: Store) -> None:
    names = [row[0] for row in store.query("DESCRIBE TABLE spans").result_rows]
    assert tuple(names) == (*sc.CANONICAL_COLUMNS, "ingested_at", "sample_weight")  # 0010: tail sampling


def test_split_statements_keeps_each_statement_whole() -> None:
    text = "-- comment only\nCREATE TABLE a (x String DEFAULT ';');\n\nALTER TABLE a ADD COLUMN y UInt8;\n-- end\n"
    assert split_statements(text) == (
        "-- comment only\nCREATE TABLE a (x String DEFAULT ';')",
        "ALTER TABLE a ADD COLUMN y UInt8",
    )


def test_ping(store: Store) -> None:
    assert store.ping() is True


def test_a_closed_store_is_unavailable(store_url: str, store: Store) -> None:
    # A second store on the same directory shares the engine; closing it leaves `store` open.
    other = Store.open(store_url)
    other.close()
    assert other.ping() is False
    with pytest.raises(StoreUnavailable, match="closed"):
        other.query("SELECT 1")
    with pytest.raises(StoreUnavailable, match="closed"):
        other.insert_spans([{}])
    assert store.ping() is True


def test_another_directory_in_the_same_process_is_refused(tmp_path: Path, store: Store) -> None:
    with pytest.raises(StoreUnavailable, match="already has another chDB store open"):
        Store.open(f"chdb://{tmp_path / 'other'}")


def test_unsupported_url_is_refused() -> None:
    with pytest.raises(StoreUnavailable, match="unsupported store URL"):
        Store.open("postgres://user:secret@localhost/db")


def test_an_unreachable_server_is_reported_without_its_password() -> None:
    with pytest.raises(StoreUnavailable, match="cannot reach the ClickHouse server") as raised:
        Store.open("http://default:s3cret@127.0.0.1:9/tokentrail")
    assert "s3cret" not in str(raised.value)
    with pytest.raises(StoreUnavailable, match="invalid database name"):
        Store.open("http://default:@127.0.0.1:9/bad-name;")


def test_a_directory_owned_by_another_process_is_reported(
    store_dir: Path, store: Store, tmp_path: Path
) -> None:
    result = _run_python(
        f"""
        from tokentrail_collector.storage import Store, StoreUnavailable
        try:
            Store.open({f"chdb://{store_dir}"!r})
        except StoreUnavailable as exc:
            print("MESSAGE:", exc)
        """,
        cwd=tmp_path,
    )
    assert "MESSAGE:" in result.stdout, result.stderr[-2000:]
    assert "another tokentrail collector" in result.stdout
    assert "through that collector's API" in result.stdout


def test_relative_chdb_url_is_created_under_the_working_directory(tmp_path: Path) -> None:
    result = _run_python(
        """
        from tokentrail_collector.storage import Store
        from tokentrail_collector.storage.schema import shipped_migrations
        store = Store.open("chdb://.tokentrail")
        print("APPLIED", store.migrate() == [m.version for m in shipped_migrations()], store.migrate(), store.ping())
        store.close()
        """,
        cwd=tmp_path,
    )
    assert "APPLIED True [] True" in result.stdout, result.stderr[-2000:]
    assert (tmp_path / ".tokentrail").is_dir()


def test_insert_and_read_back_exactly(
    store: Store, make_span: SpanFactory, project: str, base_ns: int
) -> None:
    start = base_ns + 123_456_789  # nanoseconds a datetime would lose
    span = make_span(
        start=start,
        end_time=start + 987_654_321,
        duration_ms=987.654321,
        time_to_first_token_ms=12.5,
        status_code="error",
        status_message="rate limited",
        error_type="RateLimitError",
        finish_reasons=["length", "stop"],
        is_streaming=True,
        request_params={"temperature": "0.7", "max_tokens": "256"},
        input_tokens=0,  # 0 stays 0 ...
        output_tokens=7,
        cached_input_tokens=None,  # ... and unknown stays None
        reasoning_tokens=3,
        total_tokens=7,
        tokens_estimated=True,
        cost_usd=None,  # and a model without a price: no cost is derived either
        cost_source="unknown",
        request_model="in-house-model",
        response_model="in-house-model-v2",
        input_text="日本語 ünïcödé 🚀 and a 'quote'\nnew line",
        output_text="",
        gpu_util_avg=0.5,
        gpu_util_max=0.75,
        gpu_memory_peak_bytes=2**40,
        gpu_power_avg_watts=250.25,
        gpu_energy_joules=1234.5,
        session_id="session-1",
        user_id="user-1",
        tags=["prod", "beta"],
        attributes={"gen_ai.request.model": "gpt-4o", "empty": ""},
        resource_attributes={},
        events=json.dumps([{"name": "exception", "attributes": {"exception.type": "E"}}]),
    )
    store.insert_spans([span])

    [read] = get_trace(store, project, str(span[sc.TRACE_ID]))
    assert read[sc.EVENTS] == [{"name": "exception", "attributes": {"exception.type": "E"}}]
    assert read["start_time_unix_nano"] == start
    assert read["end_time_unix_nano"] == start + 987_654_321
    assert read[sc.START_TIME] == "2026-01-01T00:00:00.123456789Z"
    for column in sc.CANONICAL_COLUMNS:
        if column in (sc.START_TIME, sc.END_TIME):
            continue
        if column in (sc.GPU_UTIL_AVG, sc.GPU_UTIL_MAX, sc.GPU_POWER_AVG_WATTS):  # Float32 columns
            assert read[column] == pytest.approx(span[column], rel=1e-6)
            continue
        expected = json.loads(str(span[column])) if column == sc.EVENTS else span[column]
        assert read[column] == expected, column
        assert type(read[column]) is type(expected), column
