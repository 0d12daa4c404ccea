"""`tokentrail demo`: the collector on chDB, a key for project `demo`, the example app sending traces,
and the analysis UI on that data (not with `--no-wait`).

Nothing to configure and no key to copy: the demo creates the key and hands it to the example
app through its environment. The collector keeps serving until Ctrl-C.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from tokentrail_collector.app import create_app
from tokentrail_collector.deps import Services
from tokentrail_collector.settings import Settings

DEMO_PROJECT = "demo"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "support_bot.py"
UI_START_TIMEOUT_S = 60.0


def run(settings: Settings, *, rounds: int = 3, wait: bool = True) -> int:
    if not EXAMPLE.exists():
        print(
            f"tokentrail demo: the example app is not at {EXAMPLE}; run the demo from a clone of the repository"
        )
        return 1
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, name="collector", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            print(f"tokentrail demo: the collector did not start (is port {settings.port} already in use?)")
            return 1
        time.sleep(0.05)

    base_url = f"http://{settings.host}:{settings.port}"
    services: Services = app.state.services
    key = services.keys.create(DEMO_PROJECT, "make demo").key
    print(f"collector listening on {base_url} (store: {settings.clickhouse_url})")
    print(f"created API key for project {DEMO_PROJECT!r}; running {EXAMPLE.name} ...\n", flush=True)

    env = os.environ | {
        "TOKENTRAIL_ENDPOINT": base_url,
        "TOKENTRAIL_API_KEY": key,
        "TOKENTRAIL_PROJECT": DEMO_PROJECT,
        "SUPPORT_BOT_ROUNDS": str(rounds),
    }
    example = subprocess.run([sys.executable, str(EXAMPLE)], env=env, check=False)
    if example.returncode != 0:
        print(f"tokentrail demo: the example app failed with exit code {example.returncode}")
    print_summary(base_url, key)

    if wait:
        ui = start_ui(base_url, key)
        print("\nThe collector keeps running; press Ctrl-C to stop.", flush=True)
        try:
            while thread.is_alive():
                thread.join(timeout=0.5)
        except KeyboardInterrupt:
            pass
        if ui is not None:
            ui.terminate()
            ui.wait(timeout=30)
    server.should_exit = True
    thread.join(timeout=30)
    return example.returncode


def start_ui(base_url: str, key: str) -> subprocess.Popen[bytes] | None:
    """The analysis UI on the demo's collector and key (`python -m tokentrail_ui`), or None."""
    port = os.environ.get("TOKENTRAIL_UI_PORT", "8501")
    env = os.environ | {"TOKENTRAIL_ENDPOINT": base_url, "TOKENTRAIL_API_KEY": key}
    try:
        ui = subprocess.Popen([sys.executable, "-m", "tokentrail_ui", "--port", port], env=env)
    except OSError as exc:
        print(f"tokentrail demo: the UI did not start: {exc}")
        return None
    url = f"http://127.0.0.1:{port}"
    if not wait_until_healthy(ui, url + "/_stcore/health", UI_START_TIMEOUT_S):
        print(f"tokentrail demo: the UI did not answer on {url} within {UI_START_TIMEOUT_S:.0f} s")
        ui.terminate()
        ui.wait(timeout=30)
        return None
    print(f"\nUI: {url}  (Overview, Traces, GPU, Drift, Datasets, Settings)", flush=True)
    return ui


def wait_until_healthy(process: subprocess.Popen[bytes], health_url: str, timeout_s: float) -> bool:
    """Whether `health_url` answered `ok` before `timeout_s` passed or `process` exited: the demo
    prints the UI's address only once a browser opening it gets a page."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(health_url, timeout=1).text.strip() == "ok":
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def print_summary(base_url: str, key: str) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        traces = client.get("/api/traces", params={"limit": 5}).json()
        stats = client.get("/api/stats", params={"group_by": "model"}).json()
    print(f"\n{traces['total']} traces stored. The latest:")
    for trace in traces["traces"]:
        cost = "-" if trace["cost_usd"] is None else f"${trace['cost_usd']:.6f}"
        print(
            f"  {trace['trace_id']}  {trace['name']:<10} {trace['status']:<6} {trace['duration_ms']:8.1f} ms"
            f"  {trace['span_count']} spans  tokens {trace['total_tokens'] or 0:>5}  cost {cost}"
        )
    print("\nPer model:")
    for row in stats["rows"]:
        print(
            f"  {row['group'] or '(no model)':<28} {row['span_count']:>5} spans  errors {row['error_rate']:.0%}"
            f"  p50 {fmt_ms(row['latency_p50_ms'])}  p95 {fmt_ms(row['latency_p95_ms'])}  tokens {row['total_tokens']}"
        )
    print("\nWhere to look:")
    print(f"  export TOKENTRAIL_API_KEY={key}")
    print(f'  curl -H "Authorization: Bearer $TOKENTRAIL_API_KEY" "{base_url}/api/traces?limit=10"')
    print(
        f'  curl -H "Authorization: Bearer $TOKENTRAIL_API_KEY" "{base_url}/api/stats?group_by=model&bucket_seconds=3600"'
    )
    print(f"  API reference: {base_url}/docs   OpenAPI: {base_url}/openapi.json")


def fmt_ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"
