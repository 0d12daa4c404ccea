"""Drift report time by window size: numeric and categorical features, and topics, separately.

Seeds a temporary chDB store directly (one INSERT ... SELECT run by the engine) with N LLM spans
per side for each N: a baseline day and a current day, 3 models, ~1 KB prompts as GenAI message
JSON, 20 attributes; the current day is slower on one model and 30% of its prompts are on another
topic. Then times `drift_report` in-process (no HTTP), REPEAT times, and prints the median:
- numeric: the 7 numeric features (latency, TTFT, tokens in and out, cost, prompt and completion
  length), computed in ClickHouse over the whole windows (two scans: counts and percentiles,
  then histograms on shared edges; plus the examples of what drifted);
- categorical: the 4 categorical ones (error rate, finish reasons, model mix, tool usage: the
  last reads every completion's text for tool calls), one scan;
- all 11 together, as a report without topics runs them;
- topics: prompt topics on a sample of S texts per side (hashed n-grams, SVD, k-means).

    python bench/drift.py [--sizes 10000,100000,1000000] [--repeat 3] [--samples 1000,5000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tokentrail_collector.analysis.drift import drift_report  # noqa: E402
from tokentrail_collector.models_drift import FEATURE_KINDS, DriftFeature, DriftRequest, FeatureKind  # noqa: E402
from tokentrail_collector.storage import Store  # noqa: E402

FILL = """
INSERT INTO spans (project_id, trace_id, span_id, parent_span_id, name, kind, service_name,
    start_time, end_time, duration_ms, time_to_first_token_ms, status_code, status_message, error_type,
    finish_reasons, provider, operation, request_model, response_model, is_streaming, request_params,
    input_tokens, output_tokens, total_tokens, tokens_estimated, cost_usd, cost_source,
    input_text, output_text, session_id, user_id, tags, attributes, resource_attributes, events)
SELECT
    {project:String},
    lower(hex(sipHash128(number, 1))), lower(hex(cityHash64(number, 2))), '',
    'chat ' || model, 'llm', 'bench-app',
    start, start + toIntervalMillisecond(toUInt64(duration)), duration, duration * 0.2,
    if(number % 50 = 7, 'error', 'ok'), '', if(number % 50 = 7, 'RateLimitError', ''),
    [if(number % 20 = 3, 'length', 'stop')], 'openai', 'chat', model, model, false, map('temperature', '0.2'),
    input_tokens, output_tokens, input_tokens + output_tokens, false,
    input_tokens * 1.5e-7 + output_tokens * 6e-7, 'sdk',
    '[{"role":"system","parts":[{"type":"text","content":"You are a helpful assistant."}]},'
        || '{"role":"user","parts":[{"type":"text","content":"'
        || arrayStringConcat(arrayMap(i -> topic[1 + cityHash64(number, i) % 12], range(140)), ' ')
        || '"}]}]',
    '[{"role":"assistant","parts":[{"type":"text","content":"'
        || arrayStringConcat(arrayMap(i -> support[1 + cityHash64(number, i, 1) % 12], range(56)), ' ')
        || '"}]}]',
    'session-' || toString(cityHash64(number) % 500), 'user-' || toString(cityHash64(number, 7) % 200), ['bench'],
    mapFromArrays(arrayMap(i -> 'attr.' || toString(i), range(20)), arrayMap(i -> toString(cityHash64(number, i) % 1000), range(20))),
    map('service.name', 'bench-app', 'service.version', if(current, 'v2', 'v1')), '[]'
FROM (
    SELECT number,
        number >= {per_side:UInt64} AS current,
        ['gpt-4o-mini', 'gpt-4o', 'claude-3-5-haiku'][1 + cityHash64(number, 9) % 3] AS model,
        ['refund','invoice','password','export','latency','token','customer','order','shipping','account','billing','plan'] AS support,
        ['garlic','pasta','oven','basil','recipe','dough','soup','butter','roast','salt','pepper','sauce'] AS cooking,
        if(current AND model = 'gpt-4o' AND cityHash64(number, 8) % 10 < 3, cooking, support) AS topic,
        fromUnixTimestamp64Nano({start_ns:Int64}, 'UTC')
            + toIntervalMillisecond(toUInt64((number % {per_side:UInt64}) * {step_ms:Float64}) + if(current, 86400000, 0)) AS start,
        (200 + cityHash64(number, 3) % 2800) * if(current AND model = 'gpt-4o', 1.5, 1.0) AS duration,
        200 + cityHash64(number, 4) % 200 AS input_tokens,
        50 + cityHash64(number, 5) % 100 AS output_tokens
    FROM numbers(2 * {per_side:UInt64})
)
"""

GROUPS = {
    "numeric": [f.value for f in DriftFeature if FEATURE_KINDS[f] is FeatureKind.NUMERIC],
    "categorical": [f.value for f in DriftFeature if FEATURE_KINDS[f] is FeatureKind.CATEGORICAL],
    "all 11": [f.value for f in DriftFeature if FEATURE_KINDS[f] is not FeatureKind.TOPICS],
}


def timed(call: Callable[[], object], repeat: int) -> tuple[float, object]:
    samples, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000", help="spans per side")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--samples", default="1000,5000", help="topic sample sizes per side")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    samples = [int(sample) for sample in args.samples.split(",")]

    store = Store.open("chdb://" + str(Path(tempfile.mkdtemp(prefix="tokentrail-bench-drift-")) / "data"))
    store.migrate()
    day0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
    print(
        f"{'spans/side':>10}  {'seed s':>7}  "
        + "  ".join(f"{name + ' ms':>14}" for name in GROUPS)
        + "  "
        + "  ".join(f"{f'topics s={s} ms':>16}" for s in samples)
    )
    for per_side in sizes:
        project = f"bench-{per_side}"
        started = time.perf_counter()
        store.command(
            FILL,
            {
                "project": project,
                "per_side": per_side,
                "start_ns": int(day0.timestamp()) * 1_000_000_000,
                "step_ms": 86_400_000 / per_side,
            },
        )
        seeded_s = time.perf_counter() - started
        windows = {
            "baseline": {"start": day0.isoformat(), "end": (day0 + timedelta(days=1)).isoformat()},
            "current": {
                "start": (day0 + timedelta(days=1)).isoformat(),
                "end": (day0 + timedelta(days=2)).isoformat(),
            },
        }
        group_ms = []
        for features in GROUPS.values():
            request = DriftRequest.model_validate({**windows, "features": features})
            elapsed, numeric = timed(partial(drift_report, store, project, request), args.repeat)
            assert numeric.baseline.span_count == per_side == numeric.current.span_count  # type: ignore[attr-defined]
            group_ms.append(elapsed)
        topic_ms = []
        for sample in samples:
            request = DriftRequest.model_validate(
                {**windows, "features": ["prompt_topics"], "topics": {"sample_size": sample}}
            )
            elapsed, topics = timed(partial(drift_report, store, project, request), args.repeat)
            topic_ms.append(elapsed)
        moved = ",".join(f.value for f in [*numeric.drifted, *numeric.warnings])  # type: ignore[attr-defined]
        print(
            f"{per_side:>10,}  {seeded_s:>7.1f}  "
            + "  ".join(f"{ms:>14,.0f}" for ms in group_ms)
            + "  "
            + "  ".join(f"{ms:>16,.0f}" for ms in topic_ms)
            + f"   moved: {moved}; topics {topics.status.value}"  # type: ignore[attr-defined]
        )
    store.close()


if __name__ == "__main__":
    main()
