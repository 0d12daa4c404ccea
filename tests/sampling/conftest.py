"""Fixtures of the tail-sampling tests: a real collector process with sampling on, a project per test,
and trace ids chosen by the collector's own hash (kept by the rate, or not)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import CollectorProcess
from tokentrail_collector.sampling import trace_sampled

RATE = 0.25
SLOW_MS = 5_000
EXPENSIVE_USD = 0.5
LOW_SCORE = 0.5

SAMPLING_ENV = {
    "TOKENTRAIL_SAMPLING": "true",
    "TOKENTRAIL_SAMPLING_RATE": str(RATE),
    "TOKENTRAIL_SAMPLING_SLOW_MS": str(SLOW_MS),
    "TOKENTRAIL_SAMPLING_EXPENSIVE_USD": str(EXPENSIVE_USD),
    "TOKENTRAIL_SAMPLING_LOW_SCORE": str(LOW_SCORE),
    "TOKENTRAIL_SAMPLING_HOLD_S": "3600",
}

_projects = itertools.count()


@pytest.fixture(scope="module")
def sampling_collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    data_dir: Path = tmp_path_factory.mktemp("sampling") / "data"
    process = CollectorProcess(data_dir, env=SAMPLING_ENV).start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def api(sampling_collector: CollectorProcess) -> Iterator[httpx.Client]:
    """A client with the key of a fresh project."""
    key = sampling_collector.create_key(f"sampling-{os.getpid()}-{next(_projects)}")["key"]
    with sampling_collector.client(key) as client:
        yield client


def trace_ids(*, sampled: bool) -> Iterator[str]:
    """Random trace ids that the rate keeps (sampled) or drops, by the collector's own rule."""
    while True:
        trace_id = os.urandom(16).hex()
        if trace_sampled(trace_id, RATE) == sampled:
            yield trace_id


TraceIds = Callable[[], str]


@pytest.fixture
def dropped_trace_id() -> TraceIds:
    ids = trace_ids(sampled=False)
    return lambda: next(ids)


@pytest.fixture
def sampled_trace_id() -> TraceIds:
    ids = trace_ids(sampled=True)
    return lambda: next(ids)
