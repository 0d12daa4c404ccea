"""`tokentrail retention ...`: on the store directly, and through the collector that owns it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.ingest.otlp_bodies import committed, llm_span, traces_request
from tests.support import ADMIN_TOKEN, CollectorProcess

DAY_NS = 86_400 * 1_000_000_000


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tokentrail_collector.cli", *args],
        env=os.environ | (env or {}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def answer(done: subprocess.CompletedProcess[str]) -> dict:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_retention_on_the_store_directly(tmp_path: Path) -> None:
    store = ["--clickhouse-url", f"chdb://{tmp_path / 'data'}"]
    env = {"TOKENTRAIL_RETENTION_DAYS": "90"}
    assert cli("keys", "create", "--project", "cli-shop", *store).returncode == 0

    assert answer(cli("retention", "set", "cli-shop", "7", "--json", *store, env=env))["days"] == 7
    shown = answer(cli("retention", "show", "--json", *store, env=env))
    assert shown["default_days"] == 90
    assert [(item["project_id"], item["days"]) for item in shown["projects"]] == [("cli-shop", 7)]
    assert answer(cli("retention", "run", "--json", *store, env=env))["rows_removed"] == 0
    reset = answer(cli("retention", "reset", "cli-shop", "--json", *store, env=env))
    assert (reset["days"], reset["source"]) == (90, "default")
    text = cli("retention", "show", "--project", "cli-shop", *store, env=env)
    assert text.stdout.strip() == "cli-shop: 90 days (default)"

    unknown = cli("retention", "set", "cli-typo", "7", *store)
    assert unknown.returncode == 1 and "unknown project 'cli-typo'" in unknown.stderr
    negative = cli("retention", "set", "cli-shop", "-1", *store)
    assert negative.returncode == 1 and "from 0 (keep forever)" in negative.stderr


def test_retention_through_the_collector_that_owns_the_store(tmp_path: Path) -> None:
    collector = CollectorProcess(tmp_path / "data", env={"TOKENTRAIL_RETENTION_DAYS": "0"}).start()
    try:
        key = collector.create_key("cli-owned")["key"]
        now_ns = time.time_ns()
        spans = [llm_span(f"{age:032x}", f"{age:016x}", start_ns=now_ns - age * DAY_NS) for age in (20, 5)]
        with collector.client(key) as client:
            committed(client, traces_request(*spans))
        flags = ["--clickhouse-url", f"chdb://{collector.data_dir}", "--port", str(collector.port), "--json"]
        env = {"TOKENTRAIL_ADMIN_TOKEN": ADMIN_TOKEN}

        assert answer(cli("retention", "show", *flags, env=env))["default_days"] == 0
        assert answer(cli("retention", "set", "cli-owned", "10", *flags, env=env))["days"] == 10
        removed = answer(cli("retention", "run", *flags, env=env))
        assert removed["rows_removed"] == 1
        with collector.client(key) as client:
            assert client.get(f"/api/traces/{20:032x}").status_code == 404
            assert client.get(f"/api/traces/{5:032x}").status_code == 200

        refused = cli("retention", "set", "cli-owned", "-3", *flags, env=env)
        assert (
            refused.returncode == 1 and "422" in refused.stderr and "greater than or equal" in refused.stderr
        )
    finally:
        collector.stop()
