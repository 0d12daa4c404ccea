"""Fixtures of the storage tests: one real chDB store per test session, a project id per test.

chDB opens one directory per process, so every test shares the session store and isolates
itself with its own project id.
"""

from __future__ import annotations

import itertools
import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tokentrail import semconv as sc
from tokentrail_collector.storage import Store

SpanFactory = Callable[..., dict[str, object]]

# 2026-01-01T00:00:00Z: default span starts follow it a millisecond apart.
BASE_NS = 1_767_225_600 * 1_000_000_000


@pytest.fixture(scope="session")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("chdb-store")


@pytest.fixture(scope="session")
def store_url(store_dir: Path) -> str:
    return f"chdb://{store_dir}"


@pytest.fixture(scope="session")
def store(store_url: str) -> Iterator[Store]:
    opened = Store.open(store_url)
    opened.migrate()
    yield opened
    opened.close()


@pytest.fixture
def base_ns() -> int:
    return BASE_NS


@pytest.fixture
def project() -> str:
    return "test-" + uuid.uuid4().hex[:12]


_span_numbers = itertools.count(1)


@pytest.fixture
def make_span(project: str) -> SpanFactory:
    """A factory of complete canonical rows; keyword arguments override columns."""

    def factory(**overrides: object) -> dict[str, object]:
        number = next(_span_numbers)
        start = int(overrides.pop("start", BASE_NS + number * 1_000_000))  # type: ignore[call-overload]
        duration_ms = float(overrides.pop("duration", 100.0))  # type: ignore[arg-type]
        row: dict[str, object] = {
            sc.PROJECT_ID: project,
            sc.TRACE_ID: uuid.uuid4().hex,
            sc.SPAN_ID: os.urandom(8).hex(),
            sc.PARENT_SPAN_ID: "",
            sc.NAME: "chat",
            sc.KIND: sc.SpanKind.LLM.value,
            sc.SERVICE: "api",
            sc.START_TIME: start,
            sc.END_TIME: start + int(duration_ms * 1_000_000),
            sc.DURATION_MS: duration_ms,
            sc.TIME_TO_FIRST_TOKEN_MS: None,
            sc.STATUS_CODE: sc.StatusCode.OK.value,
            sc.STATUS_MESSAGE: "",
            sc.ERROR_TYPE_COLUMN: "",
            sc.FINISH_REASONS: ["stop"],
            sc.PROVIDER: "openai",
            sc.OPERATION: "chat",
            sc.REQUEST_MODEL: "gpt-4o",
            sc.RESPONSE_MODEL: "gpt-4o-2024-08-06",
            sc.IS_STREAMING: False,
            sc.REQUEST_PARAMS: {"temperature": "0.2"},
            sc.INPUT_TOKENS: 10,
            sc.OUTPUT_TOKENS: 5,
            sc.CACHED_INPUT_TOKENS: None,
            sc.CACHE_WRITE_INPUT_TOKENS: None,
            sc.REASONING_TOKENS: None,
            sc.TOTAL_TOKENS: 15,
            sc.TOKENS_ESTIMATED: False,
            sc.COST_USD: 0.001,
            sc.COST_SOURCE: sc.CostSource.PRICE_TABLE.value,
            sc.INPUT_TEXT: "hello",
            sc.OUTPUT_TEXT: "world",
            sc.GPU_UTIL_AVG: None,
            sc.GPU_UTIL_MAX: None,
            sc.GPU_MEMORY_PEAK_BYTES: None,
            sc.GPU_POWER_AVG_WATTS: None,
            sc.GPU_ENERGY_JOULES: None,
            sc.SESSION: "",
            sc.USER: "",
            sc.TAGS: [],
            sc.ATTRIBUTES: {sc.GEN_AI_REQUEST_MODEL: "gpt-4o"},
            sc.RESOURCE_ATTRIBUTES: {sc.SERVICE_NAME: "api"},
            sc.EVENTS: json.dumps([]),
        }
        unknown = set(overrides) - set(row)
        if unknown:
            raise KeyError(f"not canonical columns: {sorted(unknown)}")
        row.update(overrides)
        return row

    return factory
