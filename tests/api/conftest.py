"""Fixtures of the API client tests: a project per test module on the module's collector, seeded
with the traffic of tests/ui/seed.py (planted drift, tool calls, GPU gauges, errors)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import CollectorProcess
from tests.ui.seed import Seeded, seed
from tokentrail.api import Client


@pytest.fixture(scope="module")
def project_key(collector: CollectorProcess, request: pytest.FixtureRequest) -> str:
    """A key for a project named after the test module."""
    return collector.create_key(request.module.__name__.rsplit(".", 1)[-1].replace("_", "-"))["key"]


@pytest.fixture(scope="module")
def seeded(collector: CollectorProcess, project_key: str, request: pytest.FixtureRequest) -> Seeded:
    """The seed traffic; a module sets TRACES_PER_SIDE for less of it."""
    return seed(collector, project_key, traces_per_side=getattr(request.module, "TRACES_PER_SIDE", 60))


@pytest.fixture
def client(collector: CollectorProcess, project_key: str) -> Iterator[Client]:
    with Client(collector.url, api_key=project_key) as api:
        yield api
