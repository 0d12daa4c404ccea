"""`tokentrail prices list|set|delete` against a running collector, with a project's API key."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.pricing.otlp_usage import PROTOBUF, LlmCall, otlp_body
from tests.support import CollectorProcess
from tokentrail.pricing import Usage

JAN_2026 = 1_767_225_600 * 1_000_000_000


def tokentrail(collector: CollectorProcess, key: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("TOKENTRAIL_")}
    env["TOKENTRAIL_ENDPOINT"] = collector.url
    if key is not None:
        env["TOKENTRAIL_API_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "tokentrail_collector.cli", "prices", *args],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_set_list_and_delete_a_custom_price(collector: CollectorProcess) -> None:
    key = collector.create_key("pricing-cli")["key"]
    body, [trace_id] = otlp_body([LlmCall("mistral-small-latest", JAN_2026, Usage(1_000_000, 1_000_000))])
    with collector.client(key) as api:
        assert api.post("/v1/traces", content=body, headers=PROTOBUF).status_code == 200

        done = tokentrail(collector, key, "set", "mistral-small", "--input", "0.05", "--output", "0.15",
                          "--from", "2025-06-01", "--note", "volume discount")  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "set mistral-small: input 0.05, output 0.15 from 2025-06-01 (custom_price)" in done.stdout
        [span] = api.get(f"/api/traces/{trace_id}").json()["spans"]
        assert (span["cost_usd"], span["cost_source"]) == (pytest.approx(0.2), "custom_price")

        listed = tokentrail(collector, key, "list", "--model", "mistral-small-2503", "--at", "2026-01-01")
        assert listed.returncode == 0, listed.stderr
        assert "mistral-small-2503: input 0.05, output 0.15 from 2025-06-01 (custom_price)" in listed.stdout
        assert "mistral/mistral-small" in listed.stdout  # the shipped rows that apply, after the custom one
        as_json = json.loads(tokentrail(collector, key, "list", "--custom", "--json").stdout)
        assert [row["model_key"] for row in as_json["prices"]] == ["mistral-small"]

        deleted = tokentrail(collector, key, "delete", "mistral-small")
        assert deleted.returncode == 0, deleted.stderr
        [span] = api.get(f"/api/traces/{trace_id}").json()["spans"]
        assert (span["cost_usd"], span["cost_source"]) == (pytest.approx(0.1 + 0.3), "price_table")


def test_errors_are_one_line_without_a_traceback(collector: CollectorProcess) -> None:
    key = collector.create_key("pricing-cli-errors")["key"]
    missing = tokentrail(collector, key, "delete", "never-set")
    assert missing.returncode == 1 and "404" in missing.stderr and "Traceback" not in missing.stderr
    bad = tokentrail(collector, key, "set", "bad pattern", "--input", "1", "--output", "1")
    assert bad.returncode == 1 and "not a model pattern" in bad.stderr
    no_key = tokentrail(collector, None, "list")
    assert no_key.returncode == 1 and "TOKENTRAIL_API_KEY" in no_key.stderr
