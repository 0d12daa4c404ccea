"""Collector ingest: spans committed to the store per second, from 1, 4 and 16 concurrent senders.

A real collector process on a temporary chDB directory; senders are threads posting pre-encoded
OTLP protobuf requests of realistic LLM spans (about 1.6 KB each) over loopback. A span counts
when its request was answered 200, which the collector does only after the commit. The store's
own count is checked at the end, so acknowledged == stored is part of the output, and so is the
collector's resident memory (RSS now and at its peak) and the CPU time it spent per committed span
(all its threads, engine included, from /proc): on a shared machine, where the spans/s depend on
what else runs, the CPU per span is the steadier figure to compare.

    python bench/ingest.py [--spans-per-request 300] [--requests-per-sender 12] [--senders 1,4,16]
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time

import httpx
from _collector import start_collector
from _spans import export_request

HEADERS = {"Content-Type": "application/x-protobuf"}


def memory_mib(pid: int) -> str:
    """The process's resident memory now and at its peak, from /proc (Linux)."""
    fields = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = value.split()[0]  # kB
    return f"RSS {int(fields['VmRSS']) / 1024:.0f} MiB (peak {int(fields['VmHWM']) / 1024:.0f} MiB)"


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of the process so far, all threads together, from /proc (Linux)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(
    collector_url: str, key: str, senders: int, bodies: list[list[bytes]], spans_per_request: int
) -> dict:
    latencies: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()

    def sender(own: list[bytes]) -> None:
        with httpx.Client(
            base_url=collector_url, headers=HEADERS | {"Authorization": f"Bearer {key}"}, timeout=120
        ) as client:
            for body in own:
                started = time.perf_counter()
                status = client.post("/v1/traces", content=body).status_code
                with lock:
                    (latencies if status == 200 else failures).append(
                        time.perf_counter() - started if status == 200 else status
                    )

    threads = [threading.Thread(target=sender, args=(bodies[i],)) for i in range(senders)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    acknowledged = len(latencies) * spans_per_request
    latencies.sort()
    return {
        "senders": senders,
        "acknowledged_spans": acknowledged,
        "spans_per_s": acknowledged / elapsed,
        "p50_ack_ms": statistics.median(latencies) * 1000 if latencies else None,
        "p99_ack_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else None,
        "failed_requests": failures,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--spans-per-request", type=int, default=300)
    parser.add_argument("--requests-per-sender", type=int, default=12)
    parser.add_argument("--senders", default="1,4,16")
    args = parser.parse_args()
    sender_counts = [int(value) for value in args.senders.split(",")]

    collector, key = start_collector()
    try:
        total_acknowledged = 0
        seed = 0
        for senders in sender_counts:
            requests = max(args.requests_per_sender, 48 // senders)
            bodies = []
            for _ in range(senders):
                bodies.append(
                    [export_request(args.spans_per_request, seed=(seed := seed + 1)) for _ in range(requests)]
                )
            size = sum(len(body) for body in bodies[0]) / (requests * args.spans_per_request)
            cpu_before = cpu_seconds(collector.process.pid)
            result = run(collector.url, key, senders, bodies, args.spans_per_request)
            cpu_per_span_us = (
                (cpu_seconds(collector.process.pid) - cpu_before) / max(result["acknowledged_spans"], 1) * 1e6
            )
            total_acknowledged += result["acknowledged_spans"]
            print(
                f"senders={senders:>2}  spans/request={args.spans_per_request}  ~{size:.0f} B/span  "
                f"committed {result['spans_per_s']:>9,.0f} spans/s  ack p50 {result['p50_ack_ms']:.0f} ms  "
                f"p99 {result['p99_ack_ms']:.0f} ms  failed requests {len(result['failed_requests'])}  "
                f"collector CPU {cpu_per_span_us:.0f} µs/span  {memory_mib(collector.process.pid)}",
                flush=True,
            )
        with collector.client(key) as client:
            stats = client.get("/api/stats", params={"group_by": "none"}).json()
        stored = sum(row["span_count"] for row in stats["rows"])
        print(f"acknowledged {total_acknowledged} spans, store counts {stored}")
    finally:
        collector.stop()


if __name__ == "__main__":
    main()
