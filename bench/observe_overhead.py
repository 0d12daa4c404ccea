"""Per-call overhead of `@tokentrail.observe`, beside a bare function and a manual raw-OpenTelemetry span.

All three export to a running collector (started here on a temporary chDB directory) through the
OTLP/HTTP exporter, so the exporter thread's work is part of what the app's process pays for.
Each round times a burst of CALLS calls; the figure is the median over ROUNDS rounds, in µs per call,
minus the bare function's time. Drops are reported: a span dropped is counted, never silent.

    python bench/observe_overhead.py [--calls 22000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from _collector import start_collector
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

import tokentrail


def work(x: int) -> int:
    return x * 2


def burst(fn: Callable[[int], int], calls: int) -> float:
    started = time.perf_counter()
    for index in range(calls):
        fn(index)
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=22_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    collector, key = start_collector()
    try:
        tokentrail.init(endpoint=collector.url, api_key=key, service_name="bench-observe")
        observed = tokentrail.observe(work)

        raw_provider = TracerProvider()
        raw_processor = BatchSpanProcessor(
            OTLPSpanExporter(
                endpoint=collector.url + "/v1/traces", headers={"Authorization": f"Bearer {key}"}
            )
        )
        raw_provider.add_span_processor(raw_processor)
        tracer = raw_provider.get_tracer("bench")

        def raw_span(x: int) -> int:
            with tracer.start_as_current_span("work") as span:
                span.set_attribute("input", str(x))
                result = work(x)
                span.set_attribute("output", str(result))
                return result

        results: dict[str, list[float]] = {"bare": [], "raw_otel": [], "observe": []}
        for _ in range(args.rounds):
            results["bare"].append(burst(work, args.calls))
            results["raw_otel"].append(burst(raw_span, args.calls))
            raw_processor.force_flush()
            results["observe"].append(burst(observed, args.calls))
            tokentrail.flush(timeout_s=60)

        bare = statistics.median(results["bare"])
        raw = statistics.median(results["raw_otel"]) - bare
        ours = statistics.median(results["observe"]) - bare
        stats = tokentrail.export_stats()
        print(f"calls per burst: {args.calls}, rounds: {args.rounds} (median)")
        print(f"bare function:            {bare:8.2f} us/call")
        print(f"raw OpenTelemetry span:   {raw:8.2f} us/call overhead")
        print(f"tokentrail @observe:      {ours:8.2f} us/call overhead  ({ours / raw:.2f}x raw OTel)")
        print(f"tokentrail export stats:  {stats}")
        raw_provider.shutdown()
    finally:
        tokentrail.shutdown()
        collector.stop()


if __name__ == "__main__":
    main()
