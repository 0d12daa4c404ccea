"""The spans table's column types, read from its migration, and whether a Python value fits one."""

from __future__ import annotations

import re
from pathlib import Path

import tokentrail_collector

SPANS_TABLE = Path(tokentrail_collector.__file__).parent / "storage" / "migrations" / "0001_spans.sql"


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current += char
    return [*parts, current.strip()]


# `ALTER TABLE spans ADD COLUMN IF NOT EXISTS <name> <type> AFTER <column>` in a later migration.
_ADD_COLUMN = re.compile(
    r"^ALTER TABLE spans ADD COLUMN IF NOT EXISTS (\w+) (.+?) AFTER (\w+);", re.MULTILINE
)


def column_types() -> dict[str, str]:
    """Column name -> ClickHouse type, in storage order: the spans table's migration and later ALTERs."""
    types: dict[str, str] = {}
    for line in SPANS_TABLE.read_text().splitlines():
        match = re.match(r"\s+(\w+)\s+(.+?)(?:\s+CODEC\(.*\))?(?:\s+DEFAULT\s.*)?,?\s*$", line)
        if match and match.group(1) not in {"INDEX", "ingested_at"}:
            types[match.group(1)] = match.group(2)
    for migration in sorted(SPANS_TABLE.parent.glob("*.sql")):
        for name, clickhouse_type, after in _ADD_COLUMN.findall(migration.read_text()):
            columns = list(types.items())
            position = [column for column, _ in columns].index(after) + 1
            columns.insert(position, (name, clickhouse_type))
            types = dict(columns)
    return types


def fits(value: object, clickhouse_type: str) -> bool:
    """Whether a Python value is what clickhouse-connect takes for a column of this type."""
    outer, _, inner = clickhouse_type.partition("(")
    inner = inner[:-1]
    if outer == "Nullable":
        return value is None or fits(value, inner)
    if outer == "LowCardinality":
        return fits(value, inner)
    if outer == "Array":
        return isinstance(value, list) and all(fits(item, inner) for item in value)
    if outer == "Map":
        key_type, value_type = _split_top_level(inner)
        return isinstance(value, dict) and all(
            fits(k, key_type) and fits(v, value_type) for k, v in value.items()
        )
    if outer == "String":
        return isinstance(value, str)
    if outer in ("UInt64", "UInt32"):
        return type(value) is int and value >= 0
    if outer in ("Float64", "Float32"):
        return type(value) is float
    if outer == "Bool":
        return type(value) is bool
    if outer == "DateTime64":
        return type(value) is int and value > 0
    raise AssertionError(f"no rule for ClickHouse type {clickhouse_type}")
