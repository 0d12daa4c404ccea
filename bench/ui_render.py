"""UI page render time with N spans stored (default 1M), cold and warm, per page.

Fills a temporary chDB store with the synthetic spans of bench/stats_query.py (one INSERT ...
SELECT run by the engine), starts a collector on it, and runs every page of the UI as an AppTest
session: the first run of a page is cold (the loaders call the collector), the next REPEAT runs are
warm (cached loaders, as when a person comes back to a page within the loaders' TTL). With
--browser it also drives a running `tokentrail ui` in headless Chromium (Debian's chromium and
chromium-driver): it clicks each page's link in the sidebar twice and times the second visit until
the page's key text shows.

    python bench/ui_render.py [--spans 1000000] [--repeat 5] [--browser]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import clickhouse_connect
from _collector import start_collector
from stats_query import FILL
from streamlit.testing.v1 import AppTest

from tokentrail_ui import ENTRYPOINT
from tokentrail_ui.connection import KEY_STATE, URL_STATE

# page -> (script relative to the entrypoint or None for the default page, text that shows it rendered)
PAGES: dict[str, tuple[str | None, str]] = {
    "Overview": (None, "Most expensive traces"),
    "Traces": ("pages/traces.py", "Open a trace by id"),
    "GPU": ("pages/gpu.py", "No GPU figures"),
    "Drift": ("pages/drift.py", "Scheduled drift checks"),
    "Datasets": ("pages/datasets.py", "Items the dataset would hold"),
    "Settings": ("pages/settings.py", "Custom prices"),
}
RUNNING = '[data-testid="stStatusWidget"] [data-testid="stStatusWidgetRunningIcon"]'
DRIFT_REQUEST = {
    "baseline": {"last": "7d", "before": "24h"},
    "current": {"last": "24h"},
    "model": None,
    "service": None,
    "features": None,
    "clusters": 8,
}


def fill(data_dir: Path, spans: int) -> None:
    started = time.perf_counter()
    client = clickhouse_connect.get_client(dsn=f"chdb://{data_dir}")
    step_ms = max(1, 7 * 86400 * 1000 * 5 // spans)
    client.command(FILL, parameters={"project": "bench", "spans": spans, "step_ms": step_ms, "costs": "sdk"})
    client.command("OPTIMIZE TABLE spans FINAL")
    client.close()
    print(f"filled {spans:,} spans in {time.perf_counter() - started:.1f}s")


def timed_run(app: AppTest) -> float:
    started = time.perf_counter()
    app.run()
    elapsed = time.perf_counter() - started
    if app.exception:
        raise RuntimeError(f"the page raised: {[error.value for error in app.exception]}")
    return elapsed


def app_timings(url: str, key: str, trace_id: str, repeat: int) -> dict[str, tuple[float, float, float]]:
    """Per page: (cold s, warm median s, warm max s)."""
    results = {}
    for name, (script, _) in PAGES.items():
        app = AppTest.from_file(str(ENTRYPOINT), default_timeout=900)
        app.session_state[URL_STATE] = url
        app.session_state[KEY_STATE] = key
        app.session_state["tt_drift_request"] = DRIFT_REQUEST
        app.query_params["trace"] = trace_id
        cold = timed_run(app)
        if script is not None:
            app.switch_page(script)
            cold = timed_run(app)
        warm = [timed_run(app) for _ in range(repeat)]
        results[name] = (cold, statistics.median(warm), max(warm))
    return results


def browser_timings(url: str, key: str, trace_id: str) -> dict[str, float]:
    """Per page: seconds from clicking its link in the sidebar until its key text shows, the second
    time in the same browser session (the first visit fills the caches)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.ui.browser import UiProcess, chrome, ensure_chromium

    ensure_chromium()
    ui = UiProcess(url, key, Path(tempfile.mkdtemp(prefix="tokentrail-ui-")) / "ui.log").start()
    driver: Any = chrome()

    def shown(text: str) -> None:
        # Checked in the page itself: reading the whole text through WebDriver costs more than
        # the rendering being measured.
        WebDriverWait(driver, 600, poll_frequency=0.02).until(
            lambda _: driver.execute_script(
                "return document.body.innerText.includes(arguments[0]) && !document.querySelector(arguments[1]);",
                text,
                RUNNING,
            )
        )

    def visit(name: str) -> float:
        link = next(
            a
            for a in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebarNav"] a')
            if a.text.splitlines()[-1:] == [name]
        )
        started = time.perf_counter()
        link.click()
        shown(PAGES[name][1])
        return time.perf_counter() - started

    timings = {}
    try:
        driver.get(f"{ui.url}/?trace={trace_id}")
        shown(PAGES["Overview"][1])
        for name in PAGES:
            visit(name)  # cold: fills the caches
            visit("Settings" if name != "Settings" else "Overview")
            timings[name] = visit(name)
    finally:
        driver.quit()
        ui.stop()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--browser", action="store_true", help="also time warm page loads in headless Chromium"
    )
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="tokentrail-bench-")) / "data"
    collector, key = start_collector(data_dir)  # applies the migrations and makes the key
    collector.stop()
    fill(data_dir, args.spans)
    collector.start()
    try:
        with collector.client(key) as api:
            trace_id = api.get("/api/traces", params={"limit": 1}).json()["traces"][0]["trace_id"]
        print(
            f"{args.spans:,} spans; AppTest sessions, {args.repeat} warm runs per page (target: < 2 s warm):"
        )
        for name, (cold, warm, worst) in app_timings(collector.url, key, trace_id, args.repeat).items():
            print(f"  {name:<10} cold {cold:7.2f} s   warm median {warm:6.2f} s   warm max {worst:6.2f} s")
        if args.browser:
            print("headless Chromium, warm visit of each page from the sidebar until its key text shows:")
            for name, seconds in browser_timings(collector.url, key, trace_id).items():
                print(f"  {name:<10} {seconds:6.2f} s")
    finally:
        collector.stop()


if __name__ == "__main__":
    main()
