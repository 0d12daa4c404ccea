"""Bench helper: a real collector process on a temporary chDB directory, with a key for one project."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import CollectorProcess  # noqa: E402


def start_collector(data_dir: Path | None = None) -> tuple[CollectorProcess, str]:
    directory = data_dir or Path(tempfile.mkdtemp(prefix="tokentrail-bench-")) / "data"
    collector = CollectorProcess(directory).start()
    return collector, collector.create_key("bench")["key"]
