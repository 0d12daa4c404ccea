"""The whole SDK package passes `mypy --strict`: the package ships `py.typed`, so its annotations are a
promise to every application that type-checks its calls into tokentrail.

pyproject.toml's mypy section is read: it names the optional dependencies that have no type
information (pandas, protobuf, pynvml, tiktoken), which are then Any rather than errors.
"""

from __future__ import annotations

from pathlib import Path

from tests.sdk.mypy_run import PYPROJECT, run_mypy


def test_sdk_package_is_strictly_typed(tmp_path: Path) -> None:
    result = run_mypy("-p", "tokentrail", cache_dir=tmp_path / "mypy-cache", config_file=PYPROJECT)
    assert result.returncode == 0, result.stdout + result.stderr
