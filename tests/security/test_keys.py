"""Secrets: the admin token compared in constant time, API keys by hash, revocation at once."""

from __future__ import annotations

import inspect

import httpx

from tests.support import ADMIN_TOKEN, CollectorProcess
from tokentrail_collector import deps
from tokentrail_collector.storage import keys


def _admin_status(collector: CollectorProcess, token: str) -> int:
    response = httpx.get(collector.url + "/api/admin/keys", headers={"Authorization": f"Bearer {token}"})
    return response.status_code


def test_admin_token_must_match_exactly(collector: CollectorProcess) -> None:
    assert _admin_status(collector, ADMIN_TOKEN) == 200
    for wrong in (ADMIN_TOKEN[:-1], ADMIN_TOKEN + "x", ADMIN_TOKEN.upper(), "tta_", "x" * len(ADMIN_TOKEN)):
        assert _admin_status(collector, wrong) == 403, wrong
    assert httpx.get(collector.url + "/api/admin/keys").status_code == 401


def test_an_api_key_is_not_an_admin_token(collector: CollectorProcess) -> None:
    key = collector.create_key("not-admin")["key"]
    assert _admin_status(collector, key) == 403


def test_secrets_are_compared_in_constant_time() -> None:
    # The admin token is compared with hmac.compare_digest; API keys are looked up by their
    # SHA-256 hash (no plaintext to compare) and the hash is checked with compare_digest too.
    assert "hmac.compare_digest" in inspect.getsource(deps.require_admin)
    assert "hmac.compare_digest" in inspect.getsource(keys.KeyStore.resolve)
    assert "==" not in inspect.getsource(deps.require_admin)


def test_revocation_is_effective_at_once(collector: CollectorProcess) -> None:
    created = collector.create_key("revoked-shop")
    with collector.client(created["key"]) as client:
        assert client.get("/api/traces").status_code == 200  # now resolved and cached
        with collector.admin() as admin:
            assert admin.delete(f"/api/admin/keys/{created['key_id']}").status_code == 204
        refused = client.get("/api/traces")
        assert refused.status_code == 401
        assert "revoked" in refused.json()["detail"]
