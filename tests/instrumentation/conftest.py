"""Fixtures for the instrumentation tests: the SDK tests' fixtures (clean OpenTelemetry globals, the
fail-on-swallowed-error hook, `init()` with an in-memory exporter), the fake provider on loopback,
the real `openai` and `anthropic` clients pointed at it, and instrumentation switched on and off."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import anthropic
import openai
import pytest

import tokentrail
from tests.instrumentation.helpers import FakeProvider
from tests.sdk.conftest import clean_tokentrail, exporter, internal_errors, traced  # noqa: F401

CREATED = 1_700_000_000  # fixed `created` stamps, so two runs of a stream give equal chunks


@pytest.fixture(scope="session")
def provider() -> Iterator[FakeProvider]:
    with FakeProvider(created=CREATED) as fake:
        yield fake


@pytest.fixture(autouse=True)
def fresh_provider(provider: FakeProvider) -> None:
    provider.reset()


@pytest.fixture
def instrumented() -> Iterator[list[str]]:
    yield tokentrail.instrument()
    tokentrail.uninstrument()


@pytest.fixture(autouse=True)
def uninstrument_after() -> Iterator[None]:
    yield
    tokentrail.uninstrument()


@pytest.fixture(autouse=True)
def spans_end_once(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fails a test in which any span was ended twice (the OpenTelemetry SDK warns and ignores it)."""
    caplog.set_level(logging.WARNING, logger="opentelemetry.sdk.trace")
    yield
    ended_twice = [r for r in caplog.records if "end() on an ended span" in r.getMessage()]
    assert not ended_twice, ended_twice


@pytest.fixture
def openai_client(provider: FakeProvider) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=provider.base_url, api_key="sk-fake", max_retries=0) as client:
        yield client


@pytest.fixture
async def async_openai_client(provider: FakeProvider) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(base_url=provider.base_url, api_key="sk-fake", max_retries=0) as client:
        yield client


@pytest.fixture
def anthropic_client(provider: FakeProvider) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(
        base_url=provider.anthropic_base_url, api_key="sk-ant-fake", max_retries=0
    ) as client:
        yield client


@pytest.fixture
async def async_anthropic_client(provider: FakeProvider) -> AsyncIterator[anthropic.AsyncAnthropic]:
    base_url = provider.anthropic_base_url
    async with anthropic.AsyncAnthropic(base_url=base_url, api_key="sk-ant-fake", max_retries=0) as client:
        yield client
