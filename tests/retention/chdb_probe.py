"""Run in its own process by the retention tests (chDB opens one directory per process, and a
test session may hold another): `parse <dir>` formats each statement read as JSON from stdin with
ClickHouse's own parser; `system-logs <dir> <queries>` runs that many queries on a migrated store
and reports the system tables that hold data and the directory's size before and after."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from tokentrail_collector.storage import Store

FORMAT = "SELECT formatQuery({statement:String})"
DISK_TABLES = (
    "SELECT name FROM system.tables WHERE database = 'system'"
    " AND engine LIKE '%MergeTree' AND engine NOT LIKE 'System%' ORDER BY name"
)
NOTHING = "SELECT count() FROM spans WHERE project_id = {project_id:String}"


def size_of(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())


def main(mode: str, folder: str, *rest: str) -> None:
    with Store.open(f"chdb://{folder}") as store:
        if mode == "parse":
            statements = json.load(sys.stdin)
            formatted = [store.query(FORMAT, {"statement": text}).result_rows[0][0] for text in statements]
            print(json.dumps(formatted))
            return
        store.migrate()
        before = size_of(Path(folder))
        for number in range(int(rest[0])):
            store.query(NOTHING, {"project_id": f"p{number}"})
        store.command("SYSTEM FLUSH LOGS")
        tables = [name for (name,) in store.query(DISK_TABLES).result_rows]
    print(json.dumps({"tables": tables, "before": before, "after": size_of(Path(folder)),
                      "entries": sorted(os.listdir(folder))}))  # fmt: skip


if __name__ == "__main__":
    main(*sys.argv[1:])
