"""API keys: `tt_<random>` secrets naming one project, stored only as SHA-256 hashes.

The plaintext is returned once, by `create`. `resolve` answers from a small in-process cache
with a short TTL; `revoke` clears it, so a revoked key stops working at once in this process
(and within the TTL in other collectors sharing a server store).
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from tokentrail_collector.storage import sql
from tokentrail_collector.storage.store import Store
from tokentrail_collector.storage.validation import validate_project_id

KEY_PREFIX = "tt_"
_SECRET_BYTES = 32
_KEY_LENGTH = len(KEY_PREFIX) + len(secrets.token_urlsafe(_SECRET_BYTES))
_DISPLAY_CHARS = 4  # characters of the secret kept for display, after "tt_"
_NAME_MAX = 200


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    key_prefix: str  # e.g. "tt_Ab3x", to recognise a key in a list
    project_id: str
    name: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class CreatedKey(KeyInfo):
    key: str  # the plaintext: returned once, never stored


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class KeyStore:
    """Creates, lists, revokes and resolves API keys."""

    def __init__(self, store: Store, *, cache_ttl_s: float = 5.0, cache_max_entries: int = 10_000) -> None:
        self._store = store
        self._ttl_s = cache_ttl_s
        self._max_entries = cache_max_entries
        self._cache: dict[str, tuple[str | None, float]] = {}
        self._lock = threading.Lock()

    def create(self, project_id: str, name: str = "") -> CreatedKey:
        validate_project_id(project_id)
        if len(name) > _NAME_MAX:
            raise ValueError(f"a key name has at most {_NAME_MAX} characters")
        key = KEY_PREFIX + secrets.token_urlsafe(_SECRET_BYTES)
        created = CreatedKey(
            key_id="key_" + secrets.token_hex(8),
            key_prefix=key[: len(KEY_PREFIX) + _DISPLAY_CHARS],
            project_id=project_id,
            name=name,
            created_at=_now(),
            revoked_at=None,
            key=key,
        )
        row = (
            created.key_id,
            hash_key(key),
            created.key_prefix,
            project_id,
            name,
            created.created_at,
            None,
            1,
        )
        self._store.insert_rows(sql.API_KEYS_TABLE, sql.API_KEYS_COLUMNS, [row])
        self._forget_cache()
        return created

    def list(self, project_id: str | None = None) -> builtins.list[KeyInfo]:
        if project_id is None:
            result = self._store.query(sql.KEYS_ALL)
        else:
            result = self._store.query(sql.KEYS_OF_PROJECT, {"project_id": validate_project_id(project_id)})
        return [_info(row) for row in result.named_results()]

    def revoke(self, key_id: str) -> bool:
        """Revoke a key; False when there is no such active key."""
        rows = builtins.list(self._store.query(sql.KEY_BY_ID, {"key_id": key_id}).named_results())
        if not rows or rows[0]["revoked_at"] is not None:
            return False
        row = rows[0]
        self._store.insert_rows(
            sql.API_KEYS_TABLE,
            sql.API_KEYS_COLUMNS,
            [tuple(row[name] for name in sql.API_KEYS_COLUMNS[:-2]) + (_now(), row["version"] + 1)],
        )
        self._forget_cache()
        return True

    def resolve(self, key: str) -> str | None:
        """The project of a valid, unrevoked key; None otherwise."""
        if not isinstance(key, str) or len(key) != _KEY_LENGTH or not key.startswith(KEY_PREFIX):
            return None
        digest = hash_key(key)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(digest)
        if cached is not None and cached[1] > now:
            return cached[0]
        project_id = None
        for row in self._store.query(sql.KEY_BY_HASH, {"key_hash": digest}).named_results():
            if hmac.compare_digest(row["key_hash"], digest) and row["revoked_at"] is None:
                project_id = row["project_id"]
        with self._lock:
            if len(self._cache) >= self._max_entries:
                self._cache.clear()
            self._cache[digest] = (project_id, now + self._ttl_s)
        return project_id

    def _forget_cache(self) -> None:
        with self._lock:
            self._cache.clear()


def _now() -> datetime:
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)  # the column keeps milliseconds


def _info(row: dict[str, object]) -> KeyInfo:
    return KeyInfo(
        key_id=str(row["key_id"]),
        key_prefix=str(row["key_prefix"]),
        project_id=str(row["project_id"]),
        name=str(row["name"]),
        created_at=_utc(row["created_at"]),
        revoked_at=_utc(row["revoked_at"]) if row["revoked_at"] is not None else None,
    )


def _utc(value: object) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
