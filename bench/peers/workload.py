"""The workload every SDK variant runs, inside its own virtualenv, driven by bench/peers.py over a pipe.

Only the standard library and `openai` are imported here, so that the same timed code runs in every
peer's env. A runner (`run_<variant>.py`) sets its SDK up and calls `serve()`, which then answers
one command per line on stdin with one JSON line:
  `observe N`  N calls of `work()` decorated by the SDK, in one burst (as bench/observe_overhead.py);
  `create N`   N `chat.completions.create` calls against the fake provider;
  `stream N`   the same, streamed with usage (as bench/llm_call_overhead.py);
  `quit`       flush, report the calls made per kind, exit.
Each timed answer is {"wall_us": µs per call of the burst as the app sees it, "cpu_us": CPU µs per
call of the whole process, the flush of the burst's spans included}. The model and messages are the
ones bench/llm_call_overhead.py sends.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

# stdout carries only the protocol: what SDKs print (banners, at init or later) goes to stderr. Runners
# import this module before they set their SDK up.
PROTOCOL = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr

MODEL = "gpt-4o-mini"
MESSAGES = [
    {"role": "system", "content": "Answer the customer's question from the context only."},
    {"role": "user", "content": "How do I reset my password?"},
]


def work(x: int) -> int:
    return x * 2


def plain_call(client: Any, streaming: bool) -> Callable[[], None]:
    if not streaming:

        def call() -> None:
            client.chat.completions.create(model=MODEL, messages=MESSAGES, temperature=0.2, max_tokens=128)

        return call

    def streamed() -> None:
        stream = client.chat.completions.create(
            model=MODEL,
            messages=MESSAGES,
            temperature=0.2,
            max_tokens=128,
            stream=True,
            stream_options={"include_usage": True},
        )
        for _ in stream:
            pass

    return streamed


def timed(call: Callable[[int], object], calls: int, flush: Callable[[], object]) -> dict[str, float]:
    cpu_started = time.process_time()
    started = time.perf_counter()
    for index in range(calls):
        call(index)
    wall = time.perf_counter() - started
    flush()
    return {"wall_us": wall / calls * 1e6, "cpu_us": (time.process_time() - cpu_started) / calls * 1e6}


def serve(
    *,
    decorate: Callable[[Callable[[int], int]], Callable[[int], int]],
    flush: Callable[[], object],
    client: Any,
    call_factory: Callable[[Any, bool], Callable[[], None]] = plain_call,
    shutdown: Callable[[], object] = lambda: None,
) -> None:
    """Answer the driver's commands until `quit`."""
    protocol = PROTOCOL
    decorated = decorate(work)
    create, stream = call_factory(client, False), call_factory(client, True)
    workloads: dict[str, Callable[[int], object]] = {
        "observe": decorated,
        "create": lambda _: create(),
        "stream": lambda _: stream(),
    }
    made: Counter[str] = Counter()
    for kind, calls in (("observe", 200), ("create", 10), ("stream", 10)):  # imports, connections, caches
        timed(workloads[kind], calls, flush)
        made[kind] += calls
    protocol.write("ready\n")
    for line in sys.stdin:
        command, _, count = line.strip().partition(" ")
        if command == "quit":
            flush()
            shutdown()
            protocol.write(json.dumps({"calls": dict(made)}) + "\n")
            return
        made[command] += int(count)
        protocol.write(json.dumps(timed(workloads[command], int(count), flush)) + "\n")


def arguments() -> tuple[str, str]:
    """(the sink's endpoint for this variant, the fake provider's base URL), as the driver passes them."""
    return sys.argv[1], sys.argv[2]
