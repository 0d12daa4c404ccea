"""The public surface of tokentrail_collector.storage, pinned."""

from __future__ import annotations

import ast
from pathlib import Path

import tokentrail_collector.storage as storage


def test_exported_members() -> None:
    assert sorted(storage.__all__) == [
        "CreatedKey",
        "GroupCommitWriter",
        "InvalidProjectId",
        "KeyInfo",
        "KeyStore",
        "Overloaded",
        "Store",
        "StoreError",
        "StoreUnavailable",
        "TimeBound",
        "TracePage",
        "WriterStats",
        "get_trace",
        "list_traces",
        "stats",
        "validate_project_id",
    ]
    for name in storage.__all__:
        assert hasattr(storage, name), name


def test_sql_lives_in_one_module_and_no_web_framework_is_imported() -> None:
    folder = Path(storage.__file__).parent
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [alias.name for alias in node.names] + [getattr(node, "module", None) or ""]
                assert not any(name.startswith(("fastapi", "starlette")) for name in names), path
            if path.name != "sql.py" and isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value.upper()
                assert not ("SELECT " in text and " FROM " in text), (path.name, node.value[:60])
