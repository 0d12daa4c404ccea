"""Cluster mode: the single-node migrations rewritten for a ClickHouse cluster.

With `TOKENTRAIL_CLICKHOUSE_CLUSTER=<name>` every table `t` of a migration becomes a replicated
local table `t_local` on every node (`ON CLUSTER`, `Replicated*MergeTree` with the `{shard}` and
`{replica}` macros) and a `Distributed` table `t` over them, so the collector's queries keep
their table names. Rows are sharded by a hash of their identity: a span delivered twice lands on
the same shard, where the replacing engine and FINAL collapse it; spans and their log-record
content are sharded by trace, so a trace is read from one shard.

The rewrite understands the statement shapes the migrations use (CREATE TABLE ... ENGINE =
...MergeTree, ALTER TABLE) and refuses anything else, so a new kind of migration is noticed by
the test that parses every statement of both modes with ClickHouse's own parser.
"""

from __future__ import annotations

import re
from typing import Final

LOCAL_SUFFIX: Final = "_local"
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
CLUSTER_NAME = re.compile(rf"^{_NAME}$")

# Tables sharded by trace rather than by their whole identity (a trace stays on one shard).
SHARDING_KEYS: Final[dict[str, str]] = {
    "spans": "cityHash64(project_id, trace_id)",
    "span_content": "cityHash64(project_id, trace_id)",
    "held_spans": "cityHash64(project_id, trace_id)",
}

_CREATE = re.compile(rf"^\s*CREATE TABLE IF NOT EXISTS ({_NAME})\s*\n", re.IGNORECASE)
_ENGINE = re.compile(r"^ENGINE\s*=\s*(\w*MergeTree)\s*(?:\(([^)]*)\))?", re.IGNORECASE | re.MULTILINE)
_ORDER_BY = re.compile(r"^ORDER BY\s+", re.IGNORECASE | re.MULTILINE)
_ALTER = re.compile(rf"^\s*ALTER TABLE ({_NAME})\s+(.*)$", re.IGNORECASE | re.DOTALL)
# ALTERs that change columns apply to the Distributed table too; the rest (indexes, TTL) only locally.
_COLUMN_ALTER = re.compile(r"^\s*(ADD|DROP|MODIFY|RENAME|COMMENT)\s+COLUMN\b", re.IGNORECASE)


def validate_cluster_name(cluster: str) -> str:
    if not CLUSTER_NAME.fullmatch(cluster):
        raise ValueError(f"invalid ClickHouse cluster name {cluster!r}: letters, digits and _ only")
    return cluster


def for_cluster(statement: str, cluster: str) -> list[str]:
    """The statements that do on `cluster` what `statement` does on a single node."""
    validate_cluster_name(cluster)
    statement = _without_comment_lines(statement)
    create = _CREATE.match(statement)
    if create is not None:
        return _create_table(statement, create.group(1), cluster)
    alter = _ALTER.match(statement)
    if alter is not None:
        table, action = alter.group(1), alter.group(2)
        local = f"ALTER TABLE {table}{LOCAL_SUFFIX} ON CLUSTER {cluster} {action}"
        if _COLUMN_ALTER.match(action):
            return [local, f"ALTER TABLE {table} ON CLUSTER {cluster} {action}"]
        return [local]
    raise ValueError(f"cluster mode cannot rewrite this statement; extend storage/cluster.py:\n{statement}")


def _without_comment_lines(statement: str) -> str:
    return "\n".join(line for line in statement.splitlines() if not line.lstrip().startswith("--")).strip()


def _create_table(statement: str, table: str, cluster: str) -> list[str]:
    engine = _ENGINE.search(statement)
    if engine is None:
        raise ValueError(f"table {table}: cluster mode needs a *MergeTree engine:\n{statement}")
    name, arguments = engine.group(1), (engine.group(2) or "").strip()
    local = f"{table}{LOCAL_SUFFIX}"
    replicated_arguments = ", ".join(
        part
        for part in (f"'/clickhouse/tables/{{shard}}/{{database}}/{local}'", "'{replica}'", arguments)
        if part
    )
    head = _CREATE.sub(f"CREATE TABLE IF NOT EXISTS {local} ON CLUSTER {cluster}\n", statement, count=1)
    head_engine = _ENGINE.search(head)
    if head_engine is None:  # pragma: no cover - the rename above leaves the engine clause alone
        raise ValueError(f"table {table}: engine clause lost in the rewrite")
    local_statement = (
        head[: head_engine.start()]
        + f"ENGINE = Replicated{name}({replicated_arguments})"
        + head[head_engine.end() :]
    )
    distributed = (
        f"CREATE TABLE IF NOT EXISTS {table} ON CLUSTER {cluster} AS {local}\n"
        f"ENGINE = Distributed({cluster}, currentDatabase(), {local}, {sharding_key(table, statement)})"
    )
    return [local_statement, distributed]


def sharding_key(table: str, statement: str) -> str:
    """How rows of `table` are spread over shards: by trace for span data, else by the sorting key."""
    if table in SHARDING_KEYS:
        return SHARDING_KEYS[table]
    order_by = _ORDER_BY.search(statement)
    if order_by is None:
        raise ValueError(f"table {table}: no ORDER BY to derive a sharding key from")
    return f"cityHash64({' '.join(_sorting_key(statement[order_by.end() :]).split())})"


def _sorting_key(text: str) -> str:
    """The expressions of an ORDER BY clause: a parenthesised tuple's inside, or the rest of the line."""
    if not text.startswith("("):
        return text.splitlines()[0].rstrip(";").strip()
    depth = 0
    for position, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return text[1:position]
    raise ValueError(f"unbalanced ORDER BY clause: {text!r}")
