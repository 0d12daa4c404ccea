"""The `tokentrail` command as users run it: keys on a bare store and through a running collector, and the demo."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support import ADMIN_TOKEN, CollectorProcess, free_port


def tokentrail(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tokentrail_collector.cli", *args],
        cwd=cwd,
        env=os.environ | (env or {}),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def keys_json(*args: str, **kwargs: Any) -> Any:
    result = tokentrail("keys", *args, "--json", **kwargs)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_keys_on_a_store_nobody_holds(tmp_path: Path) -> None:
    store = f"chdb://{tmp_path / 'data'}"
    created = keys_json("create", "--project", "shop", "--name", "ci", "--clickhouse-url", store)
    assert created["key"].startswith("tt_") and created["project_id"] == "shop"
    listed = keys_json("list", "--clickhouse-url", store)
    assert [key["key_id"] for key in listed] == [created["key_id"]]
    assert all("key" not in key and created["key"] not in json.dumps(key) for key in listed), (
        "secrets never listed"
    )

    collector = CollectorProcess(tmp_path / "data").start()
    try:
        with collector.client(created["key"]) as client:
            assert client.get("/api/traces").status_code == 200
    finally:
        collector.stop()

    revoked = tokentrail("keys", "revoke", created["key_id"], "--clickhouse-url", store)
    assert revoked.returncode == 0, revoked.stderr
    again = tokentrail("keys", "revoke", created["key_id"], "--clickhouse-url", store)
    assert again.returncode == 1 and "no active key" in again.stderr


def test_keys_through_the_collector_that_holds_the_store(collector: CollectorProcess) -> None:
    # chDB locks its directory to one process: the CLI goes through the running collector instead.
    flags = ["--clickhouse-url", f"chdb://{collector.data_dir}", "--url", collector.url]
    env = {"TOKENTRAIL_ADMIN_TOKEN": ADMIN_TOKEN}
    created = keys_json("create", "--project", "cli-project", *flags, env=env)
    with collector.client(created["key"]) as client:
        assert client.get("/api/traces").status_code == 200
        assert created["key_id"] in {
            key["key_id"] for key in keys_json("list", "--project", "cli-project", *flags, env=env)
        }
        revoked = tokentrail("keys", "revoke", created["key_id"], *flags, env=env)
        assert revoked.returncode == 0, revoked.stderr
        assert client.get("/api/traces").status_code == 401, "revocation is effective at once"

    refused = tokentrail("keys", "list", *flags, env={"TOKENTRAIL_ADMIN_TOKEN": "tta_wrong"})
    assert refused.returncode == 1 and "403" in refused.stderr and "Traceback" not in refused.stderr


def test_demo_runs_the_example_and_says_where_to_look(tmp_path: Path) -> None:
    port = free_port()
    env = {"OPENAI_API_KEY": "", "TOKENTRAIL_ADMIN_TOKEN": ""}
    result = tokentrail("demo", "--no-wait", "--rounds", "1", "--port", str(port), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "fake provider" in result.stdout
    assert re.search(r"^\s*8 traces stored", result.stdout, re.MULTILINE), result.stdout
    assert "gpt-4o-mini" in result.stdout
    key = re.search(r"TOKENTRAIL_API_KEY=(tt_\S+)", result.stdout)
    assert key, result.stdout
    assert (tmp_path / ".tokentrail").is_dir(), "the data lands under the working directory"

    collector = CollectorProcess(tmp_path / ".tokentrail").start()
    try:
        with httpx.Client(
            base_url=collector.url, headers={"Authorization": f"Bearer {key.group(1)}"}
        ) as client:
            traces = client.get("/api/traces", params={"limit": 100}).json()
            assert traces["total"] == 8
            detail = client.get(f"/api/traces/{traces['traces'][0]['trace_id']}").json()
        llm = [span for span in detail["spans"] if span["kind"] == "llm"]
        assert llm and llm[0]["input_tokens"] > 0 and llm[0]["request_model"] == "gpt-4o-mini"
    finally:
        collector.stop()


def test_demo_serves_the_ui_until_ctrl_c(tmp_path: Path) -> None:
    """`make demo` as a user runs it: the collector and the UI stay up, the printed UI address
    answers, and Ctrl-C stops everything cleanly."""
    port, ui_port = free_port(), free_port()
    env = os.environ | {
        "OPENAI_API_KEY": "",
        "TOKENTRAIL_ADMIN_TOKEN": "",
        "TOKENTRAIL_UI_PORT": str(ui_port),
    }
    demo = subprocess.Popen(
        [sys.executable, "-m", "tokentrail_collector.cli", "demo", "--rounds", "1", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert demo.stdout is not None
    threading.Thread(target=lambda: [lines.put(line) for line in demo.stdout], daemon=True).start()
    seen: list[str] = []
    try:
        ui_url = _wait_for_line(lines, seen, re.compile(r"^UI: (http://127\.0\.0\.1:(\d+))"), timeout_s=240)
        assert ui_url.group(2) == str(ui_port), "TOKENTRAIL_UI_PORT is honoured"
        # Printed only once the UI answers: no wait needed here.
        health = httpx.get(ui_url.group(1) + "/_stcore/health", timeout=5)
        assert (health.status_code, health.text.strip()) == (200, "ok")
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200

        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=60) == 0, "".join(seen)
        for url in (ui_url.group(1) + "/_stcore/health", f"http://127.0.0.1:{port}/healthz"):
            try:
                httpx.get(url, timeout=2)
            except httpx.ConnectError:
                continue
            raise AssertionError(f"{url} still answers after Ctrl-C")
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()


def _wait_for_line(
    lines: queue.Queue[str], seen: list[str], pattern: re.Pattern[str], timeout_s: float
) -> re.Match[str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        seen.append(line)
        if match := pattern.search(line):
            return match
    raise AssertionError(f"no line matching {pattern.pattern} in {timeout_s} s:\n" + "".join(seen))
