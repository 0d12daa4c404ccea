"""What a type checker sees through `@observe`: read by mypy in test_observe_typing.py, never run.

Every shape (function, coroutine, generator, async generator, method, classmethod), with and
without decorator arguments, must keep its parameters and its return type exactly; mypy fails on
any `assert_type` that does not hold and on any call or assignment the signature does not allow.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine, Generator, Iterator
from typing import Any

import tokentrail

if sys.version_info >= (3, 11):
    from typing import assert_type
else:
    from typing_extensions import assert_type


@tokentrail.observe
def plain(x: int, label: str = "a", *, scale: float = 1.0) -> float:
    return x * scale


@tokentrail.observe(name="answer", kind="llm", capture_input=False)
def with_arguments(question: str) -> list[str]:
    return [question]


@tokentrail.observe
async def coroutine(x: int) -> str:
    return str(x)


@tokentrail.observe(kind="tool")
async def coroutine_with_arguments(x: int) -> dict[str, int]:
    return {"x": x}


@tokentrail.observe
def generator(n: int) -> Iterator[int]:
    yield from range(n)


@tokentrail.observe(kind="retrieval", capture_output=False)
def full_generator(n: int) -> Generator[int, str, bool]:
    sent = yield n
    return bool(sent)


@tokentrail.observe
async def async_generator(n: int) -> AsyncIterator[str]:
    yield str(n)


@tokentrail.observe(name="stream", kind=tokentrail.semconv.SpanKind.LLM)
async def async_generator_with_arguments(n: int) -> AsyncGenerator[bytes, None]:
    yield bytes(n)


class Agent:
    @tokentrail.observe
    def run(self, question: str) -> int:
        return len(question)

    @tokentrail.observe(kind="agent")
    async def run_async(self, question: str) -> int:
        return len(question)

    @classmethod
    @tokentrail.observe
    def create(cls, name: str) -> Agent:
        return cls()


def check_calls() -> None:
    assert_type(plain(1), float)
    assert_type(plain(1, "b", scale=2.0), float)
    assert_type(with_arguments("q"), list[str])
    assert_type(coroutine(1), Coroutine[Any, Any, str]).close()
    assert_type(coroutine_with_arguments(1), Coroutine[Any, Any, dict[str, int]]).close()
    assert_type(generator(3), Iterator[int])
    assert_type(full_generator(3), Generator[int, str, bool])
    assert_type(async_generator(3), AsyncIterator[str])
    assert_type(async_generator_with_arguments(3), AsyncGenerator[bytes, None])
    assert_type(Agent().run("q"), int)
    assert_type(Agent.create("a"), Agent)


async def check_awaits() -> None:
    assert_type(await coroutine(1), str)
    assert_type(await Agent().run_async("q"), int)
    async for chunk in async_generator(2):
        assert_type(chunk, str)


def check_signatures() -> None:
    # Assignable only if parameter kinds, names and types survived the decorator.
    exact: Callable[[int, str], float] = plain
    one_argument: Callable[[int], float] = plain
    fetch: Callable[[str], list[str]] = with_arguments
    del exact, one_argument, fetch
