"""UI page render time with N spans stored (default 1M), cold and warm, per page.

Fills a temporary chDB store with the synthetic spans of bench/stats_query.py over 7 days, plus
what an app on local GPUs sends: GPU figures on a share of the LLM spans (as the SDK's sampler adds
them) and the SDK's four GPU gauges for GPUS devices every 10 s (its default export interval) over
the same 7 days. Every fill is an INSERT ... SELECT run by the engine. It then starts a collector on
the store and runs every page of the UI as an AppTest session: the first run of a page is cold (the
loaders call the collector), the next REPEAT runs are warm (cached loaders, as when a person comes
back to a page within the loaders' TTL). After the cold and the last warm run it checks that the
page shows its key elements (for the GPU page: its charts and tables, not the empty state). With
--browser it also drives a running `tokentrail ui` in headless Chromium (Debian's chromium and
chromium-driver): it clicks each page's link in the sidebar twice and times the second visit until
the page's key elements show.

    python bench/ui_render.py [--spans 1000000] [--repeat 5] [--gpus 2] [--browser]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

import clickhouse_connect
from _collector import start_collector
from stats_query import FILL_DAYS, fill_spans
from streamlit.testing.v1 import AppTest

from tests.ui.pages import charts, page_text
from tokentrail import semconv as sc
from tokentrail_ui import ENTRYPOINT
from tokentrail_ui.connection import KEY_STATE, URL_STATE


class Page(NamedTuple):
    script: str | None  # relative to the entrypoint; None for the default page
    texts: tuple[str, ...]  # what shows it rendered
    charts: int = 0  # at least this many charts
    tables: int = 0  # at least this many tables


PAGES: dict[str, Page] = {
    "Overview": Page(None, ("Most expensive traces",)),
    "Traces": Page("pages/traces.py", ("Open a trace by id",)),
    # The device table and four series only show with gauges; the second table with GPU spans.
    "GPU": Page("pages/gpu.py", ("Utilisation (%)", "Energy per model"), charts=4, tables=2),
    "Drift": Page("pages/drift.py", ("Scheduled drift checks",)),
    "Datasets": Page("pages/datasets.py", ("Items the dataset would hold",)),
    "Settings": Page("pages/settings.py", ("Custom prices",)),
}
RUNNING = '[data-testid="stStatusWidget"] [data-testid="stStatusWidgetRunningIcon"]'
CHARTS = '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg'
TABLES = '[data-testid="stDataFrame"]'
DRIFT_REQUEST = {
    "baseline": {"last": "7d", "before": "24h"},
    "current": {"last": "24h"},
    "model": None,
    "service": None,
    "features": None,
    "clusters": 8,
}
GPU_SPAN_SHARE_PCT = 30  # of the LLM spans: those that ran on a local GPU
GPU_INTERVAL_S = 10  # the SDK's default export interval of the gauges (GpuOptions.metrics_interval_s)
GPU_DEVICE_NAME = "NVIDIA H100 80GB HBM3"

# GPU figures on a share of the LLM spans, as the SDK's sampler sets them: a copy of each such
# span with the figures, stored later (ingested_at is the version), so that the merge that follows
# keeps the copy. Power follows utilisation; the energy is power over the span's duration.
GPU_SPANS = """
INSERT INTO spans
WITH 30 + cityHash64(span_id, 1) % 60 AS utilization, 90 + 4 * utilization AS power
SELECT * REPLACE (
    toFloat32(utilization) AS gpu_util_avg,
    toFloat32(least(100, utilization + 5 + cityHash64(span_id, 2) % 25)) AS gpu_util_max,
    toUInt64((16 + cityHash64(span_id, 3) % 48) * 1073741824) AS gpu_memory_peak_bytes,
    toFloat32(power) AS gpu_power_avg_watts,
    power * duration_ms / 1000 AS gpu_energy_joules,
    ingested_at + toIntervalSecond(1) AS ingested_at
)
FROM spans
WHERE project_id = {project:String} AND kind = {llm:String}
    AND cityHash64(span_id, 0) % 100 < {share_pct:UInt8}
"""

# The SDK's four gauges per device every {interval_s} from {start_ns}, as the collector stores
# them (normalise_metrics: the device in its columns, no other attributes): utilisation with a
# daily swing and noise, memory used, power following utilisation, and the energy counter adding
# each interval's power.
GPU_GAUGES = """
INSERT INTO gpu_metrics (project_id, service_name, host, device_index, device_uuid, device_name,
    metric, unit, time_unix_nano, value, attributes)
SELECT {project:String}, {service:String}, {host:String}, device, {uuid_prefix:String} || toString(device),
    {device_name:String}, {metrics:Array(String)}[slot], {units:Array(String)}[slot], moment,
    [utilization, memory_used, power, energy][slot], map()
FROM (
    SELECT device, moment, utilization, memory_used, power,
        {energy_start_j:Float64} + {interval_s:UInt32} * sum(power) OVER (
            PARTITION BY device ORDER BY step ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS energy
    FROM (
        SELECT number AS step, device,
            fromUnixTimestamp64Nano({start_ns:Int64}, 'UTC') + toIntervalSecond(step * {interval_s:UInt32}) AS moment,
            least(100, greatest(0, 55 + 35 * sin(2 * pi() * step * {interval_s:UInt32} / 86400 + device)
                + toInt64(cityHash64(step, device, 1) % 21) - 10)) AS utilization,
            toFloat64((24 + 16 * device) * 1073741824 + cityHash64(step, device, 2) % 8192 * 1048576) AS memory_used,
            90 + 4 * utilization AS power
        FROM numbers({points:UInt64}) ARRAY JOIN range({devices:UInt8}) AS device
    )
)
ARRAY JOIN arrayEnumerate({metrics:Array(String)}) AS slot
"""


def fill(data_dir: Path, spans: int, gpus: int) -> None:
    started = time.perf_counter()
    client = clickhouse_connect.get_client(dsn=f"chdb://{data_dir}")
    fill_spans(client, spans, "sdk")
    client.command(
        GPU_SPANS,
        parameters={"project": "bench", "llm": sc.SpanKind.LLM.value, "share_pct": GPU_SPAN_SHARE_PCT},
    )
    gauges = {
        sc.METRIC_GPU_UTILIZATION: "%",
        sc.METRIC_GPU_MEMORY_USED: "By",
        sc.METRIC_GPU_POWER: "W",
        sc.METRIC_GPU_ENERGY: "J",
    }
    client.command(
        GPU_GAUGES,
        parameters={
            "project": "bench",
            "service": "bench-app",
            "host": "gpu-box",
            "uuid_prefix": "GPU-bench-",
            "device_name": GPU_DEVICE_NAME,
            "metrics": list(gauges),
            "units": list(gauges.values()),
            "energy_start_j": 5e6,
            "interval_s": GPU_INTERVAL_S,
            "start_ns": time.time_ns() - FILL_DAYS * 86400 * 10**9,
            "points": FILL_DAYS * 86400 // GPU_INTERVAL_S,
            "devices": gpus,
        },
    )
    client.command("OPTIMIZE TABLE spans FINAL")
    client.command("OPTIMIZE TABLE gpu_metrics FINAL")
    counts = client.query(
        "SELECT (SELECT count() FROM spans), (SELECT countIf(gpu_energy_joules IS NOT NULL) FROM spans),"
        " (SELECT count() FROM gpu_metrics)"
    ).result_rows[0]
    client.close()
    print(
        f"filled {counts[0]:,} spans ({counts[1]:,} with GPU figures) and {counts[2]:,} GPU gauge points"
        f" ({gpus} devices) in {time.perf_counter() - started:.1f}s"
    )


def check_shown(name: str, app: AppTest) -> None:
    """Fail unless the AppTest run shows the page's key elements."""
    page = PAGES[name]
    shown = page_text(app) + "\n" + "\n".join(widget.label for widget in app.text_input)
    missing = [text for text in page.texts if text not in shown]
    if missing or len(charts(app)) < page.charts or len(app.dataframe) < page.tables:
        raise RuntimeError(
            f"{name}: expected {page}, missing texts {missing}, {len(charts(app))} charts,"
            f" {len(app.dataframe)} tables; the page shows:\n{shown}"
        )


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
    for name, page in PAGES.items():
        app = AppTest.from_file(str(ENTRYPOINT), default_timeout=900)
        app.session_state[URL_STATE] = url
        app.session_state[KEY_STATE] = key
        app.session_state["tt_drift_request"] = DRIFT_REQUEST
        app.query_params["trace"] = trace_id
        cold = timed_run(app)
        if page.script is not None:
            app.switch_page(page.script)
            cold = timed_run(app)
        check_shown(name, app)
        warm = [timed_run(app) for _ in range(repeat)]
        check_shown(name, app)
        results[name] = (cold, statistics.median(warm), max(warm))
    return results


def browser_timings(url: str, key: str, trace_id: str) -> dict[str, float]:
    """Per page: seconds from clicking its link in the sidebar until its key elements show, the
    second time in the same browser session (the first visit fills the caches)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.ui.browser import UiProcess, chrome, ensure_chromium

    ensure_chromium()
    ui = UiProcess(url, key, Path(tempfile.mkdtemp(prefix="tokentrail-ui-")) / "ui.log").start()
    driver: Any = chrome()

    def shown(page: Page) -> None:
        # Checked in the page itself: reading the whole text through WebDriver costs more than
        # the rendering being measured.
        WebDriverWait(driver, 600, poll_frequency=0.02).until(
            lambda _: driver.execute_script(
                "const [texts, running, charts, tables, chartCount, tableCount] = arguments;"
                " return texts.every((text) => document.body.innerText.includes(text))"
                " && !document.querySelector(running)"
                " && document.querySelectorAll(charts).length >= chartCount"
                " && document.querySelectorAll(tables).length >= tableCount;",
                list(page.texts),
                RUNNING,
                CHARTS,
                TABLES,
                page.charts,
                page.tables,
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
        shown(PAGES[name])
        return time.perf_counter() - started

    timings = {}
    try:
        driver.get(f"{ui.url}/?trace={trace_id}")
        shown(PAGES["Overview"])
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
    parser.add_argument("--gpus", type=int, choices=(1, 2), default=2, help="GPUs sending gauges")
    parser.add_argument(
        "--browser", action="store_true", help="also time warm page loads in headless Chromium"
    )
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="tokentrail-bench-")) / "data"
    collector, key = start_collector(data_dir)  # applies the migrations and makes the key
    collector.stop()
    fill(data_dir, args.spans, args.gpus)
    collector.start()
    try:
        with collector.client(key) as api:
            trace_id = api.get("/api/traces", params={"limit": 1}).json()["traces"][0]["trace_id"]
        print(
            f"{args.spans:,} spans; AppTest sessions, {args.repeat} warm runs per page (target: < 2 s warm);"
            f" load average {os.getloadavg()[0]:.1f}:"
        )
        for name, (cold, warm, worst) in app_timings(collector.url, key, trace_id, args.repeat).items():
            print(f"  {name:<10} cold {cold:7.2f} s   warm median {warm:6.2f} s   warm max {worst:6.2f} s")
        if args.browser:
            print(
                "headless Chromium, warm visit of each page from the sidebar until its key elements show;"
                f" load average {os.getloadavg()[0]:.1f}:"
            )
            for name, seconds in browser_timings(collector.url, key, trace_id).items():
                print(f"  {name:<10} {seconds:6.2f} s")
    finally:
        collector.stop()
        shutil.rmtree(data_dir.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
