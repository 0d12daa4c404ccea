"""Per-call overhead of `@tokentrail.observe` with the collector up and with it down, in one run.

Up: a real collector process on a temporary chDB directory. Down, two ways: an address where
nothing listens (each connection refused at once: the worker retries with back-off) and a
collector that accepts connections but never answers (the worker waits in a request until its
timeout). The spool is on, in a temporary folder: when a burst outgrows memory during the outage
the worker moves spans to disk, so its encoding and writing compete with the calls, as in real use.
Each round times a burst of CALLS calls per mode; the figure is the median over ROUNDS rounds, in
µs per call, minus the bare function's time. Spans dropped are reported: none is dropped silently.

    python bench/outage_latency.py [--calls 22000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import time
from pathlib import Path

from _collector import start_collector
from observe_overhead import burst, work

import tokentrail

WARM_UP_CALLS = 500


def refused_endpoint() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def hung_endpoint() -> tuple[str, socket.socket]:
    """A socket that listens and never accepts: connecting succeeds, no answer ever comes."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(128)
    return f"http://127.0.0.1:{server.getsockname()[1]}", server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=22_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    collector, key = start_collector()
    hung_url, hung_socket = hung_endpoint()
    endpoints = {"up": collector.url, "down (refused)": refused_endpoint(), "down (hung)": hung_url}
    spool_root = Path(tempfile.mkdtemp(prefix="tokentrail-outage-spool-"))
    observed = tokentrail.observe(work)
    results: dict[str, list[float]] = {"bare": [], **{mode: [] for mode in endpoints}}
    last_stats: dict[str, tokentrail.ExportStats] = {}
    try:
        for round_index in range(args.rounds):
            results["bare"].append(burst(work, args.calls))
            for mode, endpoint in endpoints.items():
                tokentrail.init(
                    endpoint=endpoint,
                    api_key=key,
                    service_name="bench-outage",
                    spool_dir=spool_root / f"{round_index}-{mode}",
                )
                burst(observed, WARM_UP_CALLS)
                time.sleep(0.3)  # the worker's first export attempt has begun (and failed, when down)
                results[mode].append(burst(observed, args.calls))
                if mode == "up":
                    tokentrail.flush(timeout_s=60)
                tokentrail.shutdown(timeout_s=5)  # down: what memory holds goes to the spool
                last_stats[mode] = tokentrail.export_stats()
    finally:
        tokentrail.shutdown()
        collector.stop()
        hung_socket.close()

    bare = statistics.median(results["bare"])
    up = statistics.median(results["up"]) - bare
    print(f"calls per burst: {args.calls}, rounds: {args.rounds} (median)")
    print(f"bare function:                 {bare:8.2f} us/call")
    for mode in endpoints:
        overhead = statistics.median(results[mode]) - bare
        ratio = f"  ({overhead / up:.2f}x collector up)" if mode != "up" else ""
        print(f"@observe, collector {mode + ':':16} {overhead:8.2f} us/call overhead{ratio}")
    print("export stats of the last round, by mode:")
    for mode, stats in last_stats.items():
        counts = stats.as_dict()
        shown = {name: counts[name] for name in ("enqueued", "exported", "spooled", "retries", "dropped")}
        print(f"  {mode:16} {shown}  losses: {stats.losses() or 'none'}")


if __name__ == "__main__":
    main()
