"""The UI reads only through `tokentrail.api`: it works the same on chDB and on a ClickHouse cluster
because it never opens the database, never reaches into the collector, never talks HTTP itself.

A scan of every module's syntax tree (imports, including `importlib.import_module("...")` and
`__import__("...")` with a literal name) checks it; the scanner is tested on snippets too, so a
scan that finds nothing is not mistaken for a clean UI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tokentrail_ui import ENTRYPOINT

UI_PACKAGE = Path(ENTRYPOINT).resolve().parent
# What the UI may take from the SDK: the API client, the attribute and column names, and where the
# collector and the key come from (the same environment variables the SDK reads).
ALLOWED_SDK_MODULES = frozenset({"tokentrail.api", "tokentrail.semconv", "tokentrail._config"})
# The database, the collector's internals, and raw HTTP (which would bypass the API client).
FORBIDDEN_ROOTS = frozenset(
    {"chdb", "clickhouse_connect", "clickhouse_driver", "tokentrail_collector", "httpx", "requests"}
)
FORBIDDEN_MODULES = frozenset({"urllib.request", "http.client"})


def imported_modules(source: str) -> list[tuple[int, str]]:
    """(line, dotted module) for every import in `source`; `from a import b` yields `a.b`, since
    `b` may be a module (`from tokentrail import semconv`)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: inside the UI package itself
                continue
            module = node.module or ""
            found.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names)
        elif isinstance(node, ast.Call) and _dynamic_import(node.func):
            name = node.args[0] if node.args else None
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                found.append((node.lineno, name.value))
    return found


def _dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in ("__import__", "import_module")
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def violation(module: str) -> str | None:
    """Why importing `module` breaks the rule, or None."""
    root = module.split(".")[0]
    if root in FORBIDDEN_ROOTS or _within(module, FORBIDDEN_MODULES):
        return f"{module}: the UI must not reach the database, the collector's code or HTTP directly"
    if root == "tokentrail" and not _within(module, ALLOWED_SDK_MODULES):
        return f"{module}: the UI reads only through {', '.join(sorted(ALLOWED_SDK_MODULES))}"
    return None


def _within(module: str, packages: frozenset[str]) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def violations(source: str) -> list[str]:
    return [f"line {line}: {why}" for line, module in imported_modules(source) if (why := violation(module))]


def test_the_ui_package_is_scanned_whole() -> None:
    modules = sorted(UI_PACKAGE.rglob("*.py"))
    names = {path.relative_to(UI_PACKAGE).as_posix() for path in modules}
    assert {"app.py", "loaders.py", "pages/overview.py", "pages/drift.py", "shaping/drift.py"} <= names
    sdk_imports = {
        module
        for path in modules
        for _, module in imported_modules(path.read_text())
        if module.startswith("tokentrail.")
    }
    assert any(module.startswith("tokentrail.api.") for module in sdk_imports), "the UI reads via the API"


def test_the_ui_imports_only_the_api_names_and_config_of_the_sdk() -> None:
    problems = {
        path.relative_to(UI_PACKAGE).as_posix(): found
        for path in sorted(UI_PACKAGE.rglob("*.py"))
        if (found := violations(path.read_text()))
    }
    assert not problems, problems


@pytest.mark.parametrize(
    "snippet",
    [
        "import chdb",
        "import clickhouse_connect.driver",
        "from clickhouse_connect import get_client",
        "from tokentrail_collector.store import Store",
        "import tokentrail_collector",
        "from tokentrail import _export_worker",
        "from tokentrail.pricing import price_of",
        "import tokentrail",
        "from tokentrail import init",
        "import httpx",
        "from urllib.request import urlopen",
        "def load():\n    import chdb\n    return chdb",
        "import importlib\nimportlib.import_module('tokentrail_collector.store')",
        "__import__('chdb')",
    ],
)
def test_the_scanner_catches_a_forbidden_import(snippet: str) -> None:
    assert violations(snippet), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        "from tokentrail.api import Client, ApiError",
        "from tokentrail import semconv as sc",
        "import tokentrail.api",
        "from tokentrail._config import ENV_API_KEY",
        "from tokentrail_ui.shaping import drift",
        "import pandas as pd\nimport streamlit as st",
        "from . import loaders",
        "text = 'import chdb'  # a string is not an import",
    ],
)
def test_the_scanner_lets_the_allowed_imports_pass(snippet: str) -> None:
    assert violations(snippet) == [], snippet
