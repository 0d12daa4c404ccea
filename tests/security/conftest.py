"""Collector processes configured for the security tests, and a reader of Prometheus text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import CollectorProcess

ALLOWED_ORIGINS = ("https://ui.example.com", "http://localhost:8501")
# Low enough to reach in a test: a burst of 3, then one request per second.
RATE_LIMIT = {"TOKENTRAIL_RATE_LIMIT_RPS": "1", "TOKENTRAIL_RATE_LIMIT_BURST": "3"}

_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})? (?P<value>\S+)$")
_LABEL = re.compile(r'(?P<key>[a-zA-Z_][a-zA-Z0-9_]*)="(?P<value>(?:[^"\\]|\\.)*)"')

Sample = tuple[str, frozenset[tuple[str, str]]]


def parse_prometheus(text: str) -> dict[Sample, float]:
    """Samples of a text exposition by (name, labels); every non-comment line must parse."""
    samples: dict[Sample, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        assert match is not None, f"not a Prometheus sample line: {line!r}"
        labels = frozenset((label["key"], label["value"]) for label in _LABEL.finditer(match["labels"] or ""))
        samples[(match["name"], labels)] = float(match["value"])
    return samples


def sample(samples: dict[Sample, float], name: str, **labels: str) -> float:
    """One sample's value; 0 when the series is absent (a counter not yet incremented)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    """A collector with a tight per-key rate limit and CORS for ALLOWED_ORIGINS."""
    data_dir: Path = tmp_path_factory.mktemp("guarded") / "data"
    env = RATE_LIMIT | {"TOKENTRAIL_CORS_ORIGINS": " , ".join(ALLOWED_ORIGINS)}
    process = CollectorProcess(data_dir, env=env).start()
    try:
        yield process
    finally:
        process.stop()
