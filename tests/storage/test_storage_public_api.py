"""The public surface of tokentrail_collector.storage, pinned."""

from __future__ import annotations

import ast
import re
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


def test_no_web_framework_is_imported() -> None:
    folder = Path(storage.__file__).parent
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [alias.name for alias in node.names] + [getattr(node, "module", None) or ""]
                assert not any(name.startswith(("fastapi", "starlette")) for name in names), path


SQL_SHAPES = re.compile(
    r"\bSELECT\b[\s\S]+\bFROM\b|\bINSERT INTO\b\s+\S+\s*(\(|VALUES|SELECT)|\bALTER TABLE\b\s+\S+\s+(ADD|DROP|MODIFY|DELETE|UPDATE)"
    r"|\bCREATE TABLE\b[\s\S]+(ENGINE|\()|\bDELETE FROM\b",
    re.IGNORECASE,
)
# Modules that compose DDL from validated identifiers only (never values): the cluster-mode rewrite.
DDL_REWRITERS = {"cluster.py"}


def _is_sql(text: str) -> bool:
    return bool(SQL_SHAPES.search(text))


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def test_sql_is_named_constants_never_built_from_values() -> None:
    """Every SQL text of the collector is a named module-level constant (or lives in a *sql.py module);
    no f-string, `%` or `.format()` ever produces SQL, so values can only arrive as bound parameters."""
    package = Path(storage.__file__).parents[1]
    offences = []
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module_constants = {
            id(node)
            for statement in tree.body
            if isinstance(statement, (ast.Assign, ast.AnnAssign))
            for node in ast.walk(statement)
        }
        sql_module = path.name == "sql.py" or path.name.endswith("_sql.py")
        if path.name in DDL_REWRITERS:
            continue
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            if id(node) in docstrings:
                continue
            where = f"{path.relative_to(package)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.JoinedStr):
                literal = "".join(part.value for part in node.values if isinstance(part, ast.Constant))
                if _is_sql(literal):
                    offences.append(f"{where}: f-string SQL")
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
                if (
                    isinstance(node.left, ast.Constant)
                    and isinstance(node.left.value, str)
                    and _is_sql(node.left.value)
                ):
                    offences.append(f"{where}: %-formatted SQL")
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "format"
            ):
                target = node.func.value
                if (
                    isinstance(target, ast.Constant)
                    and isinstance(target.value, str)
                    and _is_sql(target.value)
                ):
                    offences.append(f"{where}: .format() SQL")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _is_sql(node.value):
                if not sql_module and id(node) not in module_constants:
                    offences.append(f"{where}: SQL text inside a function, not a named constant")
    assert not offences, "\n".join(offences)
