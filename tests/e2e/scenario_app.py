"""An app instrumented with tokentrail, run as its own process by the end-to-end tests.

It exercises every shape the tests assert on (nesting across await, gather and threads, errors,
generators, LLM facts, redaction) and prints the trace ids it produced as one JSON line. It does
not call flush(): delivery at exit is the SDK's exit hook's job.

    python scenario_app.py [--no-content]
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import sys
import threading
import time

from opentelemetry import trace

import tokentrail

SECRET = "secret-123"


@tokentrail.observe(kind="retrieval")
def retrieve(query: str) -> list[str]:
    time.sleep(0.01)
    return [f"doc about {query}", f"the password is {SECRET}"]


@tokentrail.observe(kind="llm", name="llm.call")
async def call_llm(prompt: str, model: str) -> str:
    await asyncio.sleep(0.02)
    tokentrail.update_current_span(
        model=model,
        provider="openai",
        operation="chat",
        input_tokens=120,
        output_tokens=30,
        cost_usd=0.0015,
        finish_reasons=["stop"],
    )
    return f"answer from {model} to {prompt!r}"


@tokentrail.observe(kind="tool")
def lookup_in_thread(item: str) -> str:
    return item.upper()


@tokentrail.observe(kind="tool")
def failing_tool(x: int, question: str) -> int:
    # The message echoes the question (and its secret): exception text must be redacted, or absent
    # with capture off, like any other captured text.
    raise ValueError(f"bad input {x} for {question!r}")


@tokentrail.observe
def stream_words(text: str):
    yield from text.split()


@tokentrail.observe(kind="agent", name="pipeline")
async def pipeline(question: str) -> str:
    docs = retrieve(question)
    answers = await asyncio.gather(call_llm(question, "gpt-4o-mini"), call_llm(docs[0], "claude-3-5-haiku"))
    results: list[str] = []
    context = contextvars.copy_context()
    worker = threading.Thread(target=lambda: results.append(context.run(lookup_in_thread, "threaded")))
    worker.start()
    worker.join()
    try:
        failing_tool(7, question)
    except ValueError:
        pass
    words = list(stream_words("one two three"))
    return " | ".join([*answers, *results, str(len(words))])


@tokentrail.observe(name="broken")
def broken() -> None:
    raise RuntimeError("the whole request failed")


def current_trace_id() -> str:
    return format(trace.get_current_span().get_span_context().trace_id, "032x")


@tokentrail.observe(name="root-probe")
def probe() -> str:
    return current_trace_id()


def main() -> None:
    capture = "--no-content" not in sys.argv
    tokentrail.init(
        service_name="scenario",
        capture_content=capture,
        redact=lambda text: text.replace(SECRET, "[REDACTED]"),
    )
    ids: dict[str, str] = {}
    ids["probe"] = probe()

    @tokentrail.observe(name="main-run")
    async def main_run() -> str:
        ids["pipeline"] = current_trace_id()
        return await pipeline(f"what is the refund policy? {SECRET}")

    asyncio.run(main_run())

    @tokentrail.observe(name="broken-run")
    def broken_run() -> None:
        ids["broken"] = current_trace_id()
        broken()

    try:
        broken_run()
    except RuntimeError:
        pass
    print(json.dumps(ids), flush=True)


if __name__ == "__main__":
    main()
