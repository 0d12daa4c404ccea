"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import CollectorProcess


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    """A real collector process on a fresh chDB directory, shared by one test module."""
    data_dir: Path = tmp_path_factory.mktemp("collector") / "data"
    process = CollectorProcess(data_dir).start()
    try:
        yield process
    finally:
        process.stop()
