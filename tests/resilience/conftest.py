"""Fixtures for the resilience tests: the SDK tests' clean globals and fail-on-internal-error hook,
and a scripted OTLP sink."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.resilience.sink import ScriptedSink
from tests.sdk.conftest import clean_tokentrail, closed_port_url, internal_errors  # noqa: F401 - shared fixtures


@pytest.fixture
def sink() -> Iterator[ScriptedSink]:
    server = ScriptedSink()
    yield server
    server.close()
