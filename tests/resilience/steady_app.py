"""An app under steady load, run as its own process by the outage tests: it makes observed calls at
a fixed rate (TOKENTRAIL_* from the environment) and writes the ids of every span it emitted, with
its export stats, as JSON.

    python steady_app.py --out ids.json [--rate 50] [--count N | --stop-file PATH]
                         [--max-queue N] [--await-replayed N] [--exit-hook-only]

--await-replayed N: before ending, wait until N spans from the spool (and at least all that this
process spooled) have been replayed.
--exit-hook-only: end without flush() or shutdown(): delivery (or the spool) is the exit hook's job.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from opentelemetry import trace

import tokentrail


@tokentrail.observe(name="steady.call")
def call(index: int) -> tuple[str, str]:
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--count", type=int)
    parser.add_argument("--stop-file", type=Path)
    parser.add_argument("--max-queue", type=int, default=16_384)
    parser.add_argument("--await-replayed", type=int)
    parser.add_argument("--exit-hook-only", action="store_true")
    args = parser.parse_args()

    tokentrail.init(max_queue_size=args.max_queue, max_export_batch_size=min(512, args.max_queue))
    spans: list[tuple[str, str]] = []
    started = time.monotonic()
    while (args.count is None or len(spans) < args.count) and not (
        args.stop_file and args.stop_file.exists()
    ):
        spans.append(call(len(spans)))
        # Keep the rate steady over the whole run rather than per call.
        time.sleep(max(started + len(spans) / args.rate - time.monotonic(), 0.0))
    result: dict[str, object] = {"spans": spans}
    if not args.exit_hook_only:
        result["flushed"] = tokentrail.flush(timeout_s=60)
        if args.await_replayed is not None:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                stats = tokentrail.export_stats()
                if stats.replayed + stats.replay_rejected >= max(stats.spooled, args.await_replayed):
                    break
                time.sleep(0.1)
        tokentrail.shutdown(timeout_s=10)
        result["stats"] = tokentrail.export_stats().as_dict()
    args.out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
