"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import CollectorProcess


@pytest.fixture(autouse=True)
def spool_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The SDK's on-disk export spool of every test (and of the apps it starts) in a temporary
    folder, never in the user's cache directory."""
    directory = tmp_path_factory.mktemp("spool")
    monkeypatch.setenv("TOKENTRAIL_SPOOL_DIR", str(directory))
    return directory


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    """A real collector process on a fresh chDB directory, shared by one test module."""
    data_dir: Path = tmp_path_factory.mktemp("collector") / "data"
    process = CollectorProcess(data_dir).start()
    try:
        yield process
    finally:
        process.stop()
