"""Parent/child links follow the OpenTelemetry context: calls, await, gather, copied-context threads."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan

import tokentrail

from .spans import by_name, parent_id

Finished = Callable[[], list[ReadableSpan]]


def test_nested_sync_calls(traced: Finished) -> None:
    @tokentrail.observe(name="leaf")
    def leaf() -> int:
        return 1

    @tokentrail.observe(name="middle")
    def middle() -> int:
        return leaf() + leaf()

    @tokentrail.observe(name="root")
    def root() -> int:
        return middle()

    assert root() == 2
    spans = traced()
    assert len(spans) == 4
    named = {s.name: s for s in spans}
    assert parent_id(named["root"]) is None
    assert parent_id(named["middle"]) == named["root"].context.span_id
    leaves = [s for s in spans if s.name == "leaf"]
    assert [parent_id(s) for s in leaves] == [named["middle"].context.span_id] * 2
    assert len({s.context.trace_id for s in spans}) == 1


def test_span_is_current_inside_and_restored_after(traced: Finished) -> None:
    seen = []

    @tokentrail.observe(name="f")
    def f() -> None:
        seen.append(trace.get_current_span().get_span_context().span_id)

    before = trace.get_current_span()
    f()
    assert trace.get_current_span() is before
    assert seen == [by_name(traced())["f"].context.span_id]


def test_sibling_roots_get_separate_traces(traced: Finished) -> None:
    @tokentrail.observe
    def f() -> None:
        pass

    f()
    f()
    spans = traced()
    assert len({s.context.trace_id for s in spans}) == 2


async def test_children_across_await_and_gather(traced: Finished) -> None:
    @tokentrail.observe(name="fetch")
    async def fetch(i: int) -> int:
        await asyncio.sleep(0.01 * (3 - i))
        return i

    @tokentrail.observe(name="after")
    async def after() -> None:
        await asyncio.sleep(0)

    @tokentrail.observe(name="parent")
    async def parent() -> list[int]:
        await asyncio.sleep(0)
        results = await asyncio.gather(*(fetch(i) for i in range(3)))
        await after()
        return list(results)

    assert await parent() == [0, 1, 2]
    spans = traced()
    root = next(s for s in spans if s.name == "parent")
    children = [s for s in spans if s.name in ("fetch", "after")]
    assert len(children) == 4
    assert all(parent_id(c) == root.context.span_id for c in children)


async def test_concurrent_tasks_do_not_adopt_each_other(traced: Finished) -> None:
    @tokentrail.observe(name="child")
    async def child(tag: str) -> str:
        await asyncio.sleep(0.001)
        return tag

    @tokentrail.observe(name="task-root")
    async def task_root(tag: str) -> str:
        await asyncio.sleep(0.001)
        return await child(tag)

    await asyncio.gather(task_root("a"), task_root("b"))
    spans = traced()
    roots = {s.context.span_id: s for s in spans if s.name == "task-root"}
    children = [s for s in spans if s.name == "child"]
    assert len(roots) == 2 and len(children) == 2
    assert {parent_id(c) for c in children} == set(roots)
    assert all(parent_id(r) is None for r in roots.values())


def test_thread_with_copied_context_is_a_child(traced: Finished) -> None:
    @tokentrail.observe(name="in-thread")
    def in_thread() -> str:
        return threading.current_thread().name

    @tokentrail.observe(name="spawner")
    def spawner() -> None:
        context = contextvars.copy_context()
        worker = threading.Thread(target=context.run, args=(in_thread,))
        worker.start()
        worker.join()
        with ThreadPoolExecutor(2) as pool:
            futures = [pool.submit(contextvars.copy_context().run, in_thread) for _ in range(2)]
            [f.result() for f in futures]

    spawner()
    spans = traced()
    root = next(s for s in spans if s.name == "spawner")
    threaded = [s for s in spans if s.name == "in-thread"]
    assert len(threaded) == 3
    assert all(parent_id(s) == root.context.span_id for s in threaded)


def test_thread_without_copied_context_starts_a_new_trace(traced: Finished) -> None:
    @tokentrail.observe(name="in-thread")
    def in_thread() -> None:
        pass

    @tokentrail.observe(name="spawner")
    def spawner() -> None:
        worker = threading.Thread(target=in_thread)
        worker.start()
        worker.join()

    spawner()
    spans = by_name(traced())
    assert parent_id(spans["in-thread"]) is None
    assert spans["in-thread"].context.trace_id != spans["spawner"].context.trace_id


def test_other_instrumentation_spans_nest_under_observe(traced: Finished) -> None:
    tracer = trace.get_tracer("some.library")

    @tokentrail.observe(name="outer")
    def outer() -> None:
        with tracer.start_as_current_span("library-call"):
            inner()

    @tokentrail.observe(name="inner")
    def inner() -> None:
        pass

    outer()
    spans = by_name(traced())
    assert parent_id(spans["library-call"]) == spans["outer"].context.span_id
    assert parent_id(spans["inner"]) == spans["library-call"].context.span_id
