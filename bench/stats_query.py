"""Query latency at scale: stats (p50/p95/p99 per model per hour), trace list and single trace, via the API.

Fills a temporary chDB store with N synthetic LLM spans (default 1M; 5 spans a trace, ~1 KB prompt,
400 B completion, 20 attributes, spread over 7 days, 5 models) with INSERT ... SELECT statements of
1M rows run by the engine itself (10M in a few minutes: no Python, no HTTP), then times each API call
REPEAT times against a real collector process and prints the median and p95 in ms, plus bytes on
disk per span and the load average.

    python bench/stats_query.py [--spans 1000000] [--repeat 20] [--costs sdk|derived]
        [--data-dir DIR]  # keep the filled store there and reuse it on the next run (e.g. to time
                          # another version of the code on the same data: PYTHONPATH=<its tree>)

With --costs derived no span carries a cost, so every figure includes pricing each span from its
usage and the price table at read time (the usual case: only OpenLIT-like SDKs send costs).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import clickhouse_connect
import httpx
from _collector import start_collector
from clickhouse_connect.driver.client import Client

from tests.support import CollectorProcess

FILL_DAYS = 7  # FILL spreads the spans over the FILL_DAYS before now
FILL = """
INSERT INTO spans (project_id, trace_id, span_id, parent_span_id, name, kind, service_name,
    start_time, end_time, duration_ms, time_to_first_token_ms, status_code, status_message, error_type,
    finish_reasons, provider, operation, request_model, response_model, is_streaming, request_params,
    input_tokens, output_tokens, cached_input_tokens, reasoning_tokens, total_tokens, tokens_estimated,
    cost_usd, cost_source, input_text, output_text, session_id, user_id, tags, attributes,
    resource_attributes, events)
SELECT
    {project:String},
    lower(hex(murmurHash3_128(intDiv(number, 5)))),
    lower(hex(cityHash64(number))),
    if(number % 5 = 0, '', lower(hex(cityHash64(number - number % 5)))),
    if(number % 5 = 0, 'answer', 'chat ' || model),
    if(number % 5 = 0, 'chain', 'llm'),
    'bench-app',
    start, start + toIntervalMillisecond(toUInt64(duration)), duration,
    if(number % 5 = 0, NULL, duration * 0.2),
    if(number % 50 = 7, 'error', 'ok'), if(number % 50 = 7, 'rate limited', ''), if(number % 50 = 7, 'RateLimitError', ''),
    ['stop'], 'openai', 'chat', model, model, false, map('temperature', '0.2', 'max_tokens', '512'),
    input_tokens, output_tokens, NULL, NULL, input_tokens + output_tokens, false,
    if({costs:String} = 'sdk', input_tokens * 1.5e-7 + output_tokens * 6e-7, NULL),
    if({costs:String} = 'sdk', 'sdk', 'unknown'),
    arrayStringConcat(arrayMap(i -> words[1 + cityHash64(number, i) % 12], range(140)), ' '),
    arrayStringConcat(arrayMap(i -> words[1 + cityHash64(number, i, 1) % 12], range(56)), ' '),
    'session-' || toString(cityHash64(number) % 500), 'user-' || toString(cityHash64(number, 2) % 200),
    ['bench'],
    mapFromArrays(arrayMap(i -> 'attr.' || toString(i), range(20)), arrayMap(i -> toString(cityHash64(number, i) % 1000), range(20))),
    map('service.name', 'bench-app'), '[]'
FROM (
    SELECT number,
        ['gpt-4o-mini', 'gpt-4o', 'claude-3-5-haiku', 'claude-sonnet-4', 'gemini-2.0-flash'][1 + cityHash64(number, 9) % 5] AS model,
        ['refund','invoice','password','export','latency','token','customer','order','shipping','account','billing','plan'] AS words,
        now64(9) - toIntervalSecond({days:UInt32} * 86400) + toIntervalMillisecond(intDiv(number, 5) * {step_ms:UInt64}) AS start,
        200 + cityHash64(number, 3) % 2800 AS duration,
        200 + cityHash64(number, 4) % 200 AS input_tokens,
        50 + cityHash64(number, 5) % 100 AS output_tokens
    FROM numbers({first:UInt64}, {count:UInt64})
)
"""

FILL_BATCH = 1_000_000


def summary(samples: list[float]) -> tuple[float, float]:
    """Median and p95 (nearest rank) of `samples`."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, math.ceil(len(ordered) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--costs",
        choices=("sdk", "derived"),
        default="sdk",
        help="sdk: every span carries its cost; derived: none does, the collector prices each from its usage",
    )
    parser.add_argument(
        "--search-repeat", type=int, default=3, help="calls of the slow text searches (0: none)"
    )
    parser.add_argument(
        "--data-dir", type=Path, help="a store to reuse, or to fill and keep (default: a temporary one)"
    )
    parser.add_argument(
        "--compare-with",
        type=Path,
        help="another source tree (e.g. `git archive HEAD` unpacked): its collector serves a copy of the store, "
        "and the calls alternate between the two",
    )
    args = parser.parse_args()

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="tokentrail-bench-")) / "data"
    reuse = data_dir.exists()
    collector, key = start_collector(data_dir)  # applies the migrations and makes the key
    collector.stop()
    try:
        if not reuse:
            fill(data_dir, args.spans, args.costs)
        report_bytes(data_dir)
        collectors = {"this": (collector, key)}
        if args.compare_with is not None:
            collectors["other"] = other_collector(data_dir, args.compare_with)
            print(f"'other' is {args.compare_with}, on a copy of the store")
        time_calls(collectors, args)
    finally:
        shutil.rmtree(data_dir.parent / "other", ignore_errors=True)
        if args.data_dir is None:
            shutil.rmtree(data_dir.parent, ignore_errors=True)


def other_collector(data_dir: Path, tree: Path) -> tuple[CollectorProcess, str]:
    """A collector running the code of `tree` on a fresh copy of the store at `data_dir`."""
    copy = data_dir.parent / "other" / "data"
    shutil.rmtree(copy.parent, ignore_errors=True)
    shutil.copytree(data_dir, copy, symlinks=True)  # chDB links its tables relatively
    tree = tree.resolve()
    path = os.pathsep.join(str(tree / part) for part in ("collector", "sdk"))
    collector = CollectorProcess(copy, env={"PYTHONPATH": path}).start()
    key = collector.create_key("bench")["key"]
    collector.stop()
    return collector, key


def fill_spans(client: Client, spans: int, costs: str) -> None:
    """FILL in batches of FILL_BATCH rows, `spans` spread over the FILL_DAYS before now."""
    step_ms = max(1, FILL_DAYS * 86400 * 1000 * 5 // spans)
    for first in range(0, spans, FILL_BATCH):
        count = min(FILL_BATCH, spans - first)
        parameters = {
            "project": "bench",
            "first": first,
            "count": count,
            "step_ms": step_ms,
            "costs": costs,
            "days": FILL_DAYS,
        }
        client.command(FILL, parameters=parameters)


def fill(data_dir: Path, spans: int, costs: str) -> None:
    started = time.perf_counter()
    client = clickhouse_connect.get_client(dsn=f"chdb://{data_dir}")
    fill_spans(client, spans, costs)
    client.command("OPTIMIZE TABLE spans FINAL")
    client.close()
    print(f"filled {spans:,} spans in {time.perf_counter() - started:.1f}s")


def report_bytes(data_dir: Path) -> None:
    client = clickhouse_connect.get_client(dsn=f"chdb://{data_dir}")
    on_disk = client.query(
        "SELECT sum(bytes_on_disk), sum(rows) FROM system.parts WHERE active AND table = 'spans'"
    ).result_rows[0]
    client.close()
    print(f"{on_disk[1]:,} spans, {on_disk[0] / max(1, on_disk[1]):.0f} bytes on disk per span")


def time_calls(collectors: dict[str, tuple[CollectorProcess, str]], args: argparse.Namespace) -> None:
    """Each call REPEAT times per collector, the collectors taking turns call by call, so that a
    change of load on the machine weighs on all of them alike."""
    clients = {}
    for name, (collector, key) in collectors.items():
        collector.start()
        clients[name] = collector.client(key)
    try:
        any_client = next(iter(clients.values()))
        trace_id = any_client.get("/api/traces", params={"limit": 1}).json()["traces"][0]["trace_id"]
        requests = {
            "stats p50/p95/p99 per model per hour, all data": (
                "/api/stats",
                {"group_by": "model", "bucket_seconds": 3600},
            ),
            "stats per model, totals": ("/api/stats", {"group_by": "model"}),
            "trace list, first page": ("/api/traces", {"limit": 50}),
            "trace list, last 1 h": ("/api/traces", {"limit": 50, "start": time.time() - 3600}),
            "single trace": (f"/api/traces/{trace_id}", {}),
        }
        searches = {
            "trace list, text search (a word of every trace)": (
                "/api/traces",
                {"limit": 50, "search": "Invoice"},
            ),
            "trace list, text search (no match)": ("/api/traces", {"limit": 50, "search": "zebra"}),
        }
        print(f"over HTTP to the collector, load average {os.getloadavg()[0]:.1f}:")
        for group, repeat in ((requests, args.repeat), (searches, args.search_repeat)):
            for label, (path, params) in group.items() if repeat else ():
                samples: dict[str, list[float]] = {name: [] for name in clients}
                try:
                    for round_number in range(repeat + 1):  # the first round warms
                        for name, api in clients.items():
                            started = time.perf_counter()
                            api.get(path, params=params).raise_for_status()
                            if round_number:
                                samples[name].append((time.perf_counter() - started) * 1000)
                except httpx.TimeoutException:
                    print(f"  {label:<48} over the client's 30 s timeout")
                    continue
                for name, values in samples.items():
                    median, p95 = summary(values)
                    print(
                        f"  {label:<48} {name:<8} median {median:8.1f} ms   p95 {p95:8.1f} ms   ({repeat} calls)"
                    )
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        for api in clients.values():
            api.close()
        for collector, _key in collectors.values():
            collector.stop()


if __name__ == "__main__":
    main()
