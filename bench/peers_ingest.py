"""Collector ingest beside Arize Phoenix: the same generated OTLP requests to a tokentrail collector and
to a Phoenix server (bench/.peers/phoenix, default SQLite store), each started fresh on a free port,
one after the other.

Senders and requests are bench/ingest.py's (`run`: 16 threads posting pre-encoded 300-span protobuf
requests, ~1.6 KB per span, from bench/_spans.py). tokentrail answers 200 only after the commit, so
acknowledged spans are committed ones; its store's count is checked. Phoenix answers 200 once the
body is parsed and inserts later in the background, so what it persisted is counted in its SQLite
file (`spans`) until the count stops growing, and committed spans/s is persisted spans over the time
until the last one landed. Peak RSS is sampled from /proc over the server's process tree; bytes on
disk per span are tokentrail's active parts (`system.parts`) and Phoenix's SQLite files, per row.

    python bench/peers_ingest.py [--requests-per-sender 2] [--phoenix-wait 180]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import clickhouse_connect
import httpx
from _collector import start_collector
from _spans import export_request
from ingest import run

from tests.support import free_port

SENDERS = 16
SPANS_PER_REQUEST = 300
PARTS = "SELECT sum(bytes_on_disk), sum(rows) FROM system.parts WHERE active AND table = 'spans'"
PHOENIX = Path(__file__).resolve().parent / ".peers" / "phoenix" / "bin" / "phoenix"


class PeakRss:
    """Samples the resident memory of a process and its descendants every 0.2 s; keeps the peak."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _tree(self, pid: int) -> list[int]:
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return [pid]
        return [pid] + [descendant for child in children for descendant in self._tree(int(child))]

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            total = 0
            for pid in self._tree(self.pid):
                try:
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1]) * 1024
                except OSError:
                    pass
            self.peak_bytes = max(self.peak_bytes, total)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak_bytes


def report(name: str, result: dict, committed: int, committed_per_s: float, rss: int, disk: float) -> None:
    print(
        f"  {name:10} acknowledged {result['acknowledged_spans']:>7,} ({result['spans_per_s']:>7,.0f}/s)"
        f"  committed {committed:>7,} ({committed_per_s:>7,.0f}/s)  ack p50 {result['p50_ack_ms'] or 0:>6,.0f} ms"
        f"  p99 {result['p99_ack_ms'] or 0:>6,.0f} ms  failed requests {len(result['failed_requests'])}"
        f"  peak RSS {rss / 2**20:,.0f} MiB  {disk:,.0f} B/span on disk",
        flush=True,
    )


def tokentrail_ingest(bodies: list[list[bytes]]) -> dict[str, float]:
    data_dir = Path(tempfile.mkdtemp(prefix="tokentrail-peers-")) / "data"
    collector, key = start_collector(data_dir)
    try:
        rss = PeakRss(collector.process.pid)
        result = run(collector.url, key, SENDERS, bodies, SPANS_PER_REQUEST)
        peak = rss.stop()
        with collector.client(key) as client:
            stats = client.get("/api/stats", params={"group_by": "none"}).json()
        stored = sum(row["span_count"] for row in stats["rows"])
    finally:
        collector.stop()
    client = clickhouse_connect.get_client(dsn=f"chdb://{data_dir}")
    on_disk, rows = client.query(PARTS).result_rows[0]
    client.command(
        "OPTIMIZE TABLE spans FINAL"
    )  # the same rows once merged, as a long-running store keeps them
    merged, _ = client.query(PARTS).result_rows[0]
    client.close()
    print(
        f"  tokentrail parts: {on_disk / max(1, rows):,.0f} B/span as acknowledged, "
        f"{merged / max(1, rows):,.0f} B/span merged (OPTIMIZE FINAL)"
    )
    report(
        "tokentrail",
        result,
        stored,
        result["spans_per_s"] * stored / max(1, result["acknowledged_spans"]),
        peak,
        on_disk / max(1, rows),
    )
    return {
        "committed_per_s": result["spans_per_s"],
        "p99": result["p99_ack_ms"],
        "rss": peak,
        "disk": on_disk / max(1, rows),
        "stored": stored,
        "acknowledged": result["acknowledged_spans"],
    }


def phoenix_count(database: Path) -> int:
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as connection:
            return connection.execute("SELECT count(*) FROM spans").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def phoenix_ingest(bodies: list[list[bytes]], wait_s: float) -> dict[str, float]:
    work_dir = Path(tempfile.mkdtemp(prefix="phoenix-peers-"))
    port = free_port()
    env = os.environ | {
        "PHOENIX_WORKING_DIR": str(work_dir),
        "PHOENIX_PORT": str(port),
        "PHOENIX_GRPC_PORT": str(free_port()),
        "PHOENIX_HOST": "127.0.0.1",
        "PHOENIX_TELEMETRY_ENABLED": "false",
    }
    log = (work_dir / "server.log").open("w")
    server = subprocess.Popen([str(PHOENIX), "serve"], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"phoenix did not start; see {work_dir / 'server.log'}")
            time.sleep(0.5)
        database = work_dir / "phoenix.db"
        rss = PeakRss(server.pid)
        started = time.perf_counter()
        result = run(url, "unused", SENDERS, bodies, SPANS_PER_REQUEST)  # no auth configured
        count, last_change = phoenix_count(database), time.perf_counter()
        while count < result["acknowledged_spans"] and time.perf_counter() - last_change < 30:
            if time.perf_counter() - started > wait_s:
                break
            time.sleep(1)
            now = phoenix_count(database)
            if now != count:
                count, last_change = now, time.perf_counter()
        peak = rss.stop()
        waited = time.perf_counter() - started
        persisted_per_s = count / (last_change - started)
        disk = sum(path.stat().st_size for path in work_dir.glob("phoenix.db*")) / max(1, count)
    finally:
        server.terminate()  # Phoenix drains its in-memory span queue for 5 s on SIGTERM, then drops the rest
        server.wait(60)
    report("phoenix", result, count, persisted_per_s, peak, disk)
    print(f"  phoenix: {phoenix_count(database):,} spans in its store after a clean shutdown (SIGTERM)")
    if count < result["acknowledged_spans"]:
        print(
            f"  phoenix: {result['acknowledged_spans'] - count:,} acknowledged spans not in its store "
            f"{waited:.0f} s after the first request (last new row {last_change - started:.0f} s in)"
        )
    return {
        "committed_per_s": persisted_per_s,
        "p99": result["p99_ack_ms"],
        "rss": peak,
        "disk": disk,
        "stored": count,
        "acknowledged": result["acknowledged_spans"],
    }


def run_ingest(requests_per_sender: int, phoenix_wait_s: float = 180) -> None:
    bodies = [
        [
            export_request(SPANS_PER_REQUEST, seed=sender * 1000 + index)
            for index in range(requests_per_sender)
        ]
        for sender in range(SENDERS)
    ]
    size = sum(len(body) for body in bodies[0]) / (requests_per_sender * SPANS_PER_REQUEST)
    total = SENDERS * requests_per_sender * SPANS_PER_REQUEST
    print(
        f"\ningest: {SENDERS} senders x {requests_per_sender} requests x {SPANS_PER_REQUEST} spans "
        f"= {total:,} spans, ~{size:,.0f} B/span; load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    ours = tokentrail_ingest(bodies)
    theirs = phoenix_ingest(bodies, phoenix_wait_s) if PHOENIX.exists() else None
    if theirs is None:
        print("  phoenix: not set up (run `bash bench/peers/setup.sh phoenix`); left out")
        return
    print(
        f"  tokentrail / phoenix: committed spans/s {ours['committed_per_s'] / theirs['committed_per_s']:.1f}x, "
        f"p99 ack {ours['p99'] / theirs['p99']:.2f}x, peak RSS {ours['rss'] / theirs['rss']:.2f}x, "
        f"bytes on disk per span {ours['disk'] / theirs['disk']:.2f}x; load average {os.getloadavg()[0]:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests-per-sender", type=int, default=2)
    parser.add_argument("--phoenix-wait", type=float, default=180)
    args = parser.parse_args()
    run_ingest(args.requests_per_sender, args.phoenix_wait)


if __name__ == "__main__":
    main()
