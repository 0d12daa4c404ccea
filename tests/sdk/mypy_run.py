"""Running mypy the way the SDK's typing tests need it, shared by them.

mypy reads the package from `sdk/` (MYPYPATH): the editable install's import hook is opaque to it.
`--follow-imports=silent` keeps the errors to the targets named, so third-party code never counts.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"


def run_mypy(
    *targets: str, cache_dir: Path, config_file: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`mypy --strict` on `targets` (paths, or `-p package`); no configuration unless `config_file`."""
    command = [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-error-summary"]
    command += ["--cache-dir", str(cache_dir), "--config-file", str(config_file or "")]
    command += targets
    env = {**os.environ, "MYPYPATH": str(ROOT / "sdk")}
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
