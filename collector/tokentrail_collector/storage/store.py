"""The store: ClickHouse through clickhouse-connect, embedded chDB or a server, and its schema.

`Store.open(url)` takes `TOKENTRAIL_CLICKHOUSE_URL`: `chdb://<dir>` or
`http(s)://user:pass@host:8123/db`. A store holds two clients on the same engine, one for
writes and one for reads, so that a long stats query never holds up a commit: calls on one
clickhouse-connect chDB client are serialised by the client itself, while chDB runs calls on
different handles concurrently (it releases the GIL).
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

import clickhouse_connect
from clickhouse_connect.datatypes.base import ClickHouseType
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError
from clickhouse_connect.driver.query import QueryResult

from tokentrail.semconv import CANONICAL_COLUMNS, GPU_METRIC_COLUMNS, SPAN_CONTENT_COLUMNS
from tokentrail_collector.storage import sql
from tokentrail_collector.storage.cluster import for_cluster, validate_cluster_name
from tokentrail_collector.storage.errors import StoreUnavailable
from tokentrail_collector.storage.sampling import (
    HELD_SPAN_COLUMNS,
    HELD_SPANS_TABLE,
    SAMPLED_AWAY_COLUMNS,
    SAMPLED_AWAY_TABLE,
    SAMPLING_KEPT_COLUMNS,
    SAMPLING_KEPT_TABLE,
    WEIGHTED_SPAN_COLUMNS,
    WEIGHTED_SPANS,
)
from tokentrail_collector.storage.schema import shipped_migrations

logger = logging.getLogger(__name__)

_DATABASE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_CHDB_PREFIX = "chdb://"

# The tables `insert_table` fills, with their columns in storage order: a whitelist, so no other
# name reaches an insert.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    sql.SPANS_TABLE: CANONICAL_COLUMNS,
    sql.SPAN_CONTENT_TABLE: SPAN_CONTENT_COLUMNS,
    sql.GPU_METRICS_TABLE: GPU_METRIC_COLUMNS,
    # Tail sampling (migration 0010, storage/sampling.py).
    WEIGHTED_SPANS: WEIGHTED_SPAN_COLUMNS,
    HELD_SPANS_TABLE: HELD_SPAN_COLUMNS,
    SAMPLING_KEPT_TABLE: SAMPLING_KEPT_COLUMNS,
    SAMPLED_AWAY_TABLE: SAMPLED_AWAY_COLUMNS,
}
# Write targets of TABLE_COLUMNS that fill another table (with more of its columns than usual).
INSERT_TABLE: dict[str, str] = {WEIGHTED_SPANS: sql.SPANS_TABLE}


class Store:
    """One ClickHouse store: schema migrations, span inserts and parameterised reads."""

    def __init__(
        self, write_client: Client, read_client: Client, *, description: str, embedded: bool
    ) -> None:
        self._write = write_client
        self._read = read_client
        self._description = description
        self.embedded = embedded
        self.cluster: str | None = None
        self._closed = False
        self._close_lock = threading.Lock()
        self._column_types: dict[str, list[ClickHouseType]] = {}
        self._column_types_lock = threading.Lock()

    # --- opening and closing -----------------------------------------------------------------

    @classmethod
    def open(cls, url: str, *, cluster: str | None = None) -> Store:
        """Open the store named by `url`; raise StoreUnavailable with the reason when it can't.

        `cluster` (a server store only) makes migrations create replicated local tables and
        Distributed tables over them on that ClickHouse cluster (see storage/cluster.py).
        """
        if url.startswith(_CHDB_PREFIX):
            if cluster:
                raise StoreUnavailable(
                    "a ClickHouse cluster needs a server store URL (http://...), not chdb://"
                )
            return cls._open_chdb(url)
        scheme = urlsplit(url).scheme
        if scheme in ("http", "https"):
            store = cls._open_server(url)
            store.cluster = validate_cluster_name(cluster) if cluster else None
            return store
        raise StoreUnavailable(
            f"unsupported store URL {_redact(url)!r}: expected chdb://<dir> or http(s)://user:pass@host:8123/db"
        )

    @staticmethod
    def held_by_another_process(url: str) -> bool:
        """Whether a chDB store's directory is locked, for a process that has not opened it itself.

        Lets a short-lived command (the CLI) go to the collector that owns the directory without
        first making chDB fail (which also prints ClickHouse's own error on stderr).
        """
        if not url.startswith(_CHDB_PREFIX):
            return False
        return _status_file_locked(os.path.realpath(os.path.abspath(unquote(url[len(_CHDB_PREFIX) :]))))

    @classmethod
    def _open_chdb(cls, url: str) -> Store:
        location = url[len(_CHDB_PREFIX) :]
        if not location or "?" in location or "#" in location:
            raise StoreUnavailable(
                f"invalid chDB store URL {url!r}: expected chdb://<dir> or chdb:///abs/dir"
            )
        path = os.path.realpath(os.path.abspath(unquote(location)))
        try:
            os.makedirs(path, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(f"cannot create the chDB store directory {path}: {exc}") from exc
        dsn = _CHDB_PREFIX + path
        try:
            write_client = clickhouse_connect.get_client(dsn=dsn, tz_mode="aware")
        except Exception as exc:
            raise StoreUnavailable(_chdb_open_failure(path, exc)) from exc
        try:
            read_client = clickhouse_connect.get_client(dsn=dsn, tz_mode="aware")
        except Exception as exc:
            write_client.close()
            raise StoreUnavailable(_chdb_open_failure(path, exc)) from exc
        return cls(write_client, read_client, description=dsn, embedded=True)

    @classmethod
    def _open_server(cls, url: str) -> Store:
        database = urlsplit(url).path.strip("/") or "default"
        if not _DATABASE_NAME.fullmatch(database):
            raise StoreUnavailable(f"invalid database name {database!r} in the store URL")
        description = _redact(url)
        try:
            admin = clickhouse_connect.get_client(dsn=url, database="default", autogenerate_session_id=False)
            try:
                admin.command(sql.CREATE_DATABASE.format(database=f"`{database}`"))
            finally:
                admin.close()
            write_client = clickhouse_connect.get_client(
                dsn=url, autogenerate_session_id=False, tz_mode="aware"
            )
            read_client = clickhouse_connect.get_client(
                dsn=url, autogenerate_session_id=False, tz_mode="aware"
            )
        except Exception as exc:
            raise StoreUnavailable(f"cannot reach the ClickHouse server at {description}: {exc}") from exc
        return cls(write_client, read_client, description=description, embedded=False)

    def close(self) -> None:
        """Release both clients (and with chDB the directory lock, once no other client holds it)."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        for client in (self._read, self._write):
            try:
                client.close()
            except Exception:
                logger.warning("error while closing a store client", exc_info=True)

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self._description!r}{', closed' if self._closed else ''})"

    # --- health and schema -------------------------------------------------------------------

    def ping(self) -> bool:
        """True when the store answers a trivial query."""
        if self._closed:
            return False
        try:
            return self._read.query(sql.PING).result_rows == [(1,)]
        except Exception:
            logger.debug("store ping failed", exc_info=True)
            return False

    def migrate(self) -> list[int]:
        """Apply the shipped migrations not applied yet, in order; return the versions applied now."""
        for statement in self.schema_statements(sql.CREATE_SCHEMA_MIGRATIONS):
            self.command(statement)
        applied = {version for version, _name in self.query(sql.APPLIED_MIGRATIONS).result_rows}
        done = []
        for migration in shipped_migrations():
            if migration.version in applied:
                continue
            logger.info("applying migration %04d_%s", migration.version, migration.name)
            for statement in migration.statements:
                for rewritten in self.schema_statements(statement):
                    self.command(rewritten)
            self.insert_rows(
                "schema_migrations", sql.SCHEMA_MIGRATIONS_COLUMNS, [(migration.version, migration.name)]
            )
            done.append(migration.version)
        return done

    # --- writes ------------------------------------------------------------------------------

    def schema_statements(self, statement: str) -> list[str]:
        """What a migration statement becomes on this store: itself, or its cluster-mode rewrite."""
        return for_cluster(statement, self.cluster) if self.cluster else [statement]

    def insert_spans(self, rows: Sequence[Mapping[str, object]]) -> None:
        """Insert canonical span rows (dicts with exactly the CANONICAL_COLUMNS keys) in ONE insert."""
        self.insert_table(sql.SPANS_TABLE, rows)

    def insert_table(self, table: str, rows: Sequence[Mapping[str, object]]) -> None:
        """Insert rows (dicts with the keys of TABLE_COLUMNS[table]) into `table` in ONE insert."""
        columns_of_table = TABLE_COLUMNS.get(table)
        if columns_of_table is None:
            raise ValueError(f"no inserts into {table!r}: expected one of {sorted(TABLE_COLUMNS)}")
        if not rows:
            return
        client = self._client_for_write()
        # Column-oriented: one list per column, in storage order, with the column types read
        # once, so that an insert costs no DESCRIBE round trip and no row-to-column pivot in
        # the driver.
        try:
            columns = [[row[name] for row in rows] for name in columns_of_table]
        except KeyError as exc:
            raise ValueError(f"a row for {table} lacks the column {exc.args[0]!r}") from None
        try:
            client.insert(
                INSERT_TABLE.get(table, table),
                columns,
                column_names=columns_of_table,
                column_types=self._types_of(table, columns_of_table),
                column_oriented=True,
            )
        except Exception as exc:
            raise _unavailable(f"insert into {table}", exc) from exc

    def _types_of(self, table: str, column_names: Sequence[str]) -> list[ClickHouseType]:
        types = self._column_types.get(table)
        if types is None:
            with self._column_types_lock:
                types = self._column_types.get(table)
                if types is None:
                    try:
                        context = self._write.create_insert_context(
                            INSERT_TABLE.get(table, table), list(column_names)
                        )
                    except Exception as exc:
                        raise _unavailable(f"reading the schema of {table}", exc) from exc
                    types = self._column_types[table] = list(context.column_types)
        return types

    def insert_rows(self, table: str, column_names: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        """A small row-oriented insert (bookkeeping tables)."""
        client = self._client_for_write()
        try:
            client.insert(table, rows, column_names=list(column_names))
        except Exception as exc:
            raise _unavailable(f"insert into {table}", exc) from exc

    def command(self, statement: str, parameters: Mapping[str, Any] | None = None) -> None:
        """Run a statement that returns no rows (DDL)."""
        client = self._client_for_write()
        try:
            client.command(statement, parameters=dict(parameters) if parameters else None)
        except Exception as exc:
            raise _unavailable("command", exc) from exc

    # --- reads -------------------------------------------------------------------------------

    def query(self, statement: str, parameters: Mapping[str, Any] | None = None) -> QueryResult:
        """Run a named query of `sql` with server-side parameters."""
        if self._closed:
            raise StoreUnavailable("the store is closed")
        try:
            return self._read.query(statement, parameters=dict(parameters) if parameters else None)
        except Exception as exc:
            raise _unavailable("query", exc) from exc

    def _client_for_write(self) -> Client:
        if self._closed:
            raise StoreUnavailable("the store is closed")
        return self._write


def _unavailable(what: str, exc: Exception) -> StoreUnavailable:
    if isinstance(exc, StoreUnavailable):
        return exc
    if isinstance(exc, ClickHouseError):
        return StoreUnavailable(f"{what} failed: {exc}")
    return StoreUnavailable(f"{what} failed: {type(exc).__name__}: {exc}")


def _chdb_open_failure(path: str, exc: Exception) -> str:
    text = str(exc)
    if "already initialized with path" in text:
        return (
            f"cannot open the chDB store at {path}: this process already has another chDB store open "
            f"(chDB allows one directory per process; close the other store first). {text}"
        )
    if _status_file_locked(path):
        return (
            f"cannot open the chDB store at {path}: the directory is locked by another process, probably "
            "another tokentrail collector. chDB lets one process own a directory: everything else (UI, "
            "notebooks, CLI export) should read through that collector's API."
        )
    return f"cannot open the chDB store at {path}: {text}"


def _status_file_locked(path: str) -> bool:
    """Whether another process holds ClickHouse's lock on `<dir>/status`."""
    status = os.path.join(path, "status")
    try:
        fd = os.open(status, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        return exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()
