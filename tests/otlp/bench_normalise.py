"""Normalisation throughput on realistic LLM spans, one core: `python tests/otlp/bench_normalise.py`.

Each span has 22 attributes (1 KB prompt, 400 B completion), as `otlp_spans.llm_attributes` makes
them: ids, timings, cost, content and session differ from span to span, the model, parameters and
tags recur, as in an application's real traffic. Every round normalises a request it has not seen
before (so values unique to a span are never remembered from an earlier round), and reports:

- "stream": the collector's steady state, attributes that recur remembered from earlier requests;
- "cold": the memory of decoded attributes emptied before each request (a just-started collector).

Decoding the protobuf body is timed too, for scale.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2]))

from tests.otlp.otlp_spans import llm_request  # noqa: E402
from tokentrail_collector.normalise import normalise_traces  # noqa: E402
from tokentrail_collector.normalise._traces import _COMPILED  # noqa: E402
from tokentrail_collector.otlp import decode_trace_request  # noqa: E402


def rate(function: Callable[[], object], spans: int) -> float:
    started = time.perf_counter()
    function()
    return spans / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spans", type=int, default=1000, help="spans per request")
    parser.add_argument("--rounds", type=int, default=12)
    args = parser.parse_args()
    requests = [llm_request(args.spans, first_index=i * args.spans) for i in range(2 * args.rounds + 1)]
    bodies = [request.SerializeToString() for request in requests]
    print(f"{args.spans} spans per request, {len(bodies[0]) / args.spans:.0f} bytes per span (protobuf)")

    def decode(body: bytes) -> None:
        decode_trace_request(
            body, content_type="application/x-protobuf", content_encoding=None, max_body_bytes=1 << 30
        )

    def normalise(index: int, *, cold: bool) -> float:
        if cold:
            _COMPILED.remembered.clear()
        request = requests[index]
        return rate(lambda: normalise_traces(request, project_id="bench"), args.spans)

    normalise(0, cold=False)  # warm up
    results = {
        "decode": [rate(lambda body=body: decode(body), args.spans) for body in bodies[1 : args.rounds + 1]],
        "normalise, stream": [normalise(i, cold=False) for i in range(1, args.rounds + 1)],
        "normalise, cold": [normalise(i, cold=True) for i in range(args.rounds + 1, 2 * args.rounds + 1)],
    }
    for label, rates in results.items():
        print(
            f"{label:>18}: median {statistics.median(rates):>9,.0f} spans/s, best {max(rates):>9,.0f} spans/s"
        )


if __name__ == "__main__":
    main()
