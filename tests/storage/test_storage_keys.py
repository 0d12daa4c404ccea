"""API keys: created once in plaintext, stored as hashes, resolved, listed and revoked."""

from __future__ import annotations

import hashlib

import pytest

from tokentrail_collector.storage import InvalidProjectId, KeyStore, Store


@pytest.fixture
def keys(store: Store) -> KeyStore:
    return KeyStore(store, cache_ttl_s=60)  # a long TTL: revocation must not wait for it


def test_create_resolve_list_revoke(keys: KeyStore, project: str) -> None:
    created = keys.create(project, name="ci")
    assert created.key.startswith("tt_") and len(created.key) == 46
    assert created.project_id == project and created.name == "ci"
    assert keys.resolve(created.key) == project
    assert keys.resolve(created.key) == project  # from the cache

    [info] = keys.list(project)
    assert (info.key_id, info.project_id, info.name, info.active) == (created.key_id, project, "ci", True)
    assert info.key_prefix == created.key[:7] == created.key_prefix
    assert info.created_at == created.created_at
    assert not hasattr(info, "key")
    assert created.key_id in {item.key_id for item in keys.list()}

    assert keys.revoke(created.key_id) is True
    assert keys.resolve(created.key) is None  # at once, despite the cached answer
    [revoked] = keys.list(project)
    assert revoked.active is False and revoked.revoked_at is not None
    assert keys.revoke(created.key_id) is False
    assert keys.revoke("key_unknown") is False


def test_keys_are_per_project(keys: KeyStore, project: str) -> None:
    mine = keys.create(project)
    theirs = keys.create(project + "-b")
    assert keys.resolve(mine.key) == project
    assert keys.resolve(theirs.key) == project + "-b"
    assert [info.key_id for info in keys.list(project)] == [mine.key_id]


def test_only_hashes_are_stored(store: Store, keys: KeyStore, project: str) -> None:
    created = keys.create(project, name="secret-holder")
    keys.revoke(created.key_id)
    rows = store.query("SELECT * FROM api_keys WHERE project_id = {p:String}", {"p": project}).result_rows
    assert 1 <= len(rows) <= 2  # the created version and the revoked one, unless a merge folded them
    stored = " ".join(str(value) for row in rows for value in row)
    assert created.key not in stored
    assert created.key[3:] not in stored
    assert hashlib.sha256(created.key.encode()).hexdigest() in stored


@pytest.mark.parametrize(
    "candidate",
    ["", "tt_", "not-a-key", "tt_" + "A" * 43, "Bearer tt_x", "tt_" + "A" * 100],
)
def test_unknown_or_malformed_keys_resolve_to_none(keys: KeyStore, candidate: str) -> None:
    assert keys.resolve(candidate) is None


def test_invalid_project_ids_are_refused(keys: KeyStore) -> None:
    for bad in ("", "has space", "x" * 65, "semi;colon", "ünï"):
        with pytest.raises(InvalidProjectId):
            keys.create(bad)
    with pytest.raises(InvalidProjectId):
        keys.list("bad id")
