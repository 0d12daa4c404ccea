"""The numbered migrations shipped in `storage/migrations/` (`NNNN_name.sql`), read and split.

A file may hold several statements; each statement ends with `;` at the end of a line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

_FILE_NAME = re.compile(r"(\d{4})_([A-Za-z0-9_]+)\.sql")
_STATEMENT_END = re.compile(r";[ \t]*(?:\n|\Z)")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


def split_statements(text: str) -> tuple[str, ...]:
    """The statements of a migration file, without comment-only or empty pieces."""
    statements = []
    for piece in _STATEMENT_END.split(text):
        meaningful = [
            line for line in piece.splitlines() if line.strip() and not line.strip().startswith("--")
        ]
        if meaningful:
            statements.append(piece.strip())
    return tuple(statements)


def shipped_migrations() -> list[Migration]:
    """The migrations of the installed package, in version order."""
    folder = resources.files("tokentrail_collector.storage").joinpath("migrations")
    migrations = []
    for entry in folder.iterdir():
        match = _FILE_NAME.fullmatch(entry.name)
        if match is None:
            continue
        migrations.append(
            Migration(
                version=int(match.group(1)),
                name=match.group(2),
                statements=split_statements(entry.read_text(encoding="utf-8")),
            )
        )
    migrations.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in migrations]
    if len(versions) != len(set(versions)):
        raise RuntimeError(f"two migrations share a version number: {versions}")
    return migrations
