"""Mining eval datasets at scale: candidate read, duplicate removal, export and import.

Fills a temporary chDB store with N LLM spans whose prompts look like an application's (40
templates with varied fill-ins; 10% near duplicates with one word changed, 5% exact repeats),
then times, as medians of REPEAT runs, in this process (no HTTP):

- reading the candidate spans of a filter (limit 10k and all), and "latency above p95";
- near-duplicate removal (MinHash/LSH, Jaccard >= 0.8) of 10k and of all candidates;
- export of 10k items to each format, and parsing the file back (import).

    python bench/dataset_mining.py [--spans 50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable

from tokentrail import semconv as sc
from tokentrail_collector.analysis.datasets import Item, dedupe_key
from tokentrail_collector.analysis.dedupe import DedupeMethod, deduplicate
from tokentrail_collector.analysis.formats import FORMATS, export_items, parse_items
from tokentrail_collector.storage import Store
from tokentrail_collector.storage.mining import SpanCriteria, candidate_spans

PROJECT = "bench"
BASE_NS = 1_767_225_600 * 1_000_000_000
PRODUCTS = "kettle toaster blender headphones router keyboard monitor printer camera drill lamp mixer".split()
PROBLEMS = "cracked missing broken late damaged wrong scratched dead noisy leaking".split()
ACTIONS = "refund replacement repair exchange discount callback".split()
TEMPLATES = [
    f"Template {number}: my order {{order}} with a {{product}} arrived {{problem}}; "
    f"I would like a {{action}} and to know how long it takes. Reference {{ref}}, case {number}."
    for number in range(40)
]


def prompt(rng: random.Random) -> str:
    return rng.choice(TEMPLATES).format(
        order=rng.randint(1000, 99999),
        product=rng.choice(PRODUCTS),
        problem=rng.choice(PROBLEMS),
        action=rng.choice(ACTIONS),
        ref=os.urandom(4).hex(),
    )


def span_row(rng: random.Random, number: int, text: str) -> dict[str, object]:
    start = BASE_NS + number * 1_000_000
    duration = rng.uniform(200, 3000)
    # Columns added to the canonical row later are nullable: unknown here.
    row: dict[str, object] = dict.fromkeys(sc.CANONICAL_COLUMNS)
    return row | {
        sc.PROJECT_ID: PROJECT, sc.TRACE_ID: os.urandom(16).hex(), sc.SPAN_ID: os.urandom(8).hex(),
        sc.PARENT_SPAN_ID: "", sc.NAME: "chat", sc.KIND: "llm", sc.SERVICE: "shop",
        sc.START_TIME: start, sc.END_TIME: start + int(duration * 1e6), sc.DURATION_MS: duration,
        sc.TIME_TO_FIRST_TOKEN_MS: None, sc.STATUS_CODE: "ok", sc.STATUS_MESSAGE: "", sc.ERROR_TYPE_COLUMN: "",
        sc.FINISH_REASONS: ["stop"], sc.PROVIDER: "openai", sc.OPERATION: "chat",
        sc.REQUEST_MODEL: rng.choice(("gpt-4o", "gpt-4o-mini", "claude")), sc.RESPONSE_MODEL: "",
        sc.IS_STREAMING: False, sc.REQUEST_PARAMS: {}, sc.INPUT_TOKENS: 60, sc.OUTPUT_TOKENS: 40,
        sc.CACHED_INPUT_TOKENS: None, sc.REASONING_TOKENS: None, sc.TOTAL_TOKENS: 100, sc.TOKENS_ESTIMATED: False,
        sc.COST_USD: 0.0001, sc.COST_SOURCE: "sdk", sc.INPUT_TEXT: json.dumps(text),
        sc.OUTPUT_TEXT: json.dumps("We will send a " + rng.choice(ACTIONS) + " shortly."),
        sc.GPU_UTIL_AVG: None, sc.GPU_UTIL_MAX: None, sc.GPU_MEMORY_PEAK_BYTES: None,
        sc.GPU_POWER_AVG_WATTS: None, sc.GPU_ENERGY_JOULES: None, sc.SESSION: "", sc.USER: "", sc.TAGS: [],
        sc.ATTRIBUTES: {}, sc.RESOURCE_ATTRIBUTES: {}, sc.EVENTS: "[]",
    }  # fmt: skip


def fill(store: Store, count: int) -> None:
    rng = random.Random(1)
    prompts: list[str] = []
    rows = []
    for number in range(count):
        roll = rng.random()
        if prompts and roll < 0.05:
            text = rng.choice(prompts)  # an exact repeat
        elif prompts and roll < 0.15:
            words = rng.choice(prompts).split()
            words[rng.randrange(len(words))] = "changed"
            text = " ".join(words)  # a near duplicate
        else:
            text = prompt(rng)
            prompts.append(text)
        rows.append(span_row(rng, number, text))
        if len(rows) == 10_000:
            store.insert_spans(rows)
            rows = []
    if rows:
        store.insert_spans(rows)


def median_ms(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spans", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory, Store.open(f"chdb://{directory}") as store:
        store.migrate()
        started = time.perf_counter()
        fill(store, args.spans)
        print(f"filled {args.spans} spans in {time.perf_counter() - started:.1f} s")
        every = min(args.spans, 50_000)
        for limit in sorted({10_000, every}):
            ms = median_ms(
                args.repeat, lambda limit=limit: candidate_spans(store, PROJECT, SpanCriteria(limit=limit))
            )
            print(f"read {limit} candidate spans: {ms:.0f} ms")
        slow = SpanCriteria(limit=every, latency_percentile=95)
        ms = median_ms(args.repeat, lambda: candidate_spans(store, PROJECT, slow))
        print(f"read the spans above p95 latency (of {every}): {ms:.0f} ms")
        spans, _ = candidate_spans(store, PROJECT, SpanCriteria(limit=every))
        keys = [dedupe_key(str(span[sc.INPUT_TEXT])) for span in spans]
        for size in sorted({10_000, len(keys)}):
            result = deduplicate(keys[:size], DedupeMethod())
            ms = median_ms(args.repeat, lambda size=size: deduplicate(keys[:size], DedupeMethod()))
            print(
                f"dedupe {size} prompts: {ms:.0f} ms ({len(result.exact)} exact, {len(result.near)} near duplicates)"
            )
        items = [
            Item(input=str(span[sc.INPUT_TEXT]), output=str(span[sc.OUTPUT_TEXT]), metadata={"model": "gpt-4o"},
                 source_trace_id=str(span[sc.TRACE_ID]), source_span_id=str(span[sc.SPAN_ID]), item_id=str(n))
            for n, span in enumerate(spans[:10_000])
        ]  # fmt: skip
        for fmt in FORMATS:
            body = export_items(items, fmt)
            export_ms = median_ms(args.repeat, lambda fmt=fmt: export_items(items, fmt))
            import_ms = median_ms(args.repeat, lambda body=body, fmt=fmt: parse_items(body, fmt))
            print(
                f"{fmt}: export 10000 items {export_ms:.0f} ms ({len(body) // 1024} KiB), import {import_ms:.0f} ms"
            )


if __name__ == "__main__":
    main()
