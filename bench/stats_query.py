"""Query latency at scale: stats (p50/p95/p99 per model per hour), trace list and single trace, via the API.

Fills a temporary chDB store with N synthetic LLM spans (default 1M; 5 spans a trace, ~1 KB prompt,
400 B completion, 20 attributes, spread over 7 days, 5 models) with one INSERT ... SELECT run by
the engine itself, then times each API call REPEAT times against a real collector process and prints
the median and p95 in ms, plus bytes on disk per span.

    python bench/stats_query.py [--spans 1000000] [--repeat 20] [--costs sdk|derived]

With --costs derived no span carries a cost, so every figure includes pricing each span from its
usage and the price table at read time (the usual case: only OpenLIT-like SDKs send costs).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import clickhouse_connect
from _collector import start_collector

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
        now64(9) - toIntervalSecond(7 * 86400) + toIntervalMillisecond(intDiv(number, 5) * {step_ms:UInt64}) AS start,
        200 + cityHash64(number, 3) % 2800 AS duration,
        200 + cityHash64(number, 4) % 200 AS input_tokens,
        50 + cityHash64(number, 5) % 100 AS output_tokens
    FROM numbers({spans:UInt64})
)
"""


def timed(call, repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


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
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="tokentrail-bench-")) / "data"
    collector, key = start_collector(data_dir)  # applies the migrations and makes the key
    collector.stop()

    started = time.perf_counter()
    client = clickhouse_connect.get_client(dsn=f"chdb://{data_dir}")
    step_ms = max(1, 7 * 86400 * 1000 * 5 // args.spans)
    client.command(
        FILL, parameters={"project": "bench", "spans": args.spans, "step_ms": step_ms, "costs": args.costs}
    )
    client.command("OPTIMIZE TABLE spans FINAL")
    on_disk = client.query(
        "SELECT sum(bytes_on_disk), sum(rows) FROM system.parts WHERE active AND table = 'spans'"
    ).result_rows[0]
    client.close()
    print(
        f"filled {args.spans:,} spans in {time.perf_counter() - started:.1f}s; "
        f"{on_disk[0] / max(1, on_disk[1]):.0f} bytes on disk per span (synthetic text compresses well)"
    )

    collector.start()
    try:
        with collector.client(key) as api:
            trace_id = api.get("/api/traces", params={"limit": 1}).json()["traces"][0]["trace_id"]
            calls = {
                "stats p50/p95/p99 per model per hour, all data": lambda: api.get(
                    "/api/stats", params={"group_by": "model", "bucket_seconds": 3600}
                ).raise_for_status(),
                "stats per model, totals": lambda: api.get(
                    "/api/stats", params={"group_by": "model"}
                ).raise_for_status(),
                "trace list, first page": lambda: api.get(
                    "/api/traces", params={"limit": 50}
                ).raise_for_status(),
                "trace list, last 1 h": lambda: api.get(
                    "/api/traces", params={"limit": 50, "start": time.time() - 3600}
                ).raise_for_status(),
                "single trace": lambda: api.get(f"/api/traces/{trace_id}").raise_for_status(),
            }
            print(f"{args.spans:,} spans, {args.repeat} calls each, over HTTP to the collector:")
            for label, call in calls.items():
                call()  # warm
                median, p95 = timed(call, args.repeat)
                print(f"  {label:<48} median {median:8.1f} ms   p95 {p95:8.1f} ms")
    finally:
        collector.stop()


if __name__ == "__main__":
    main()
