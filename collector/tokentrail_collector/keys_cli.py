"""Key administration for the CLI: straight on the store, or through the collector when it owns the store.

chDB locks its directory to one process, so while a collector runs on it, the CLI asks that
collector (`/api/admin/keys`, authenticated by the admin token it keeps beside the data).
"""

from __future__ import annotations

import os
from typing import Any

import httpx

from tokentrail_collector.app import read_admin_token
from tokentrail_collector.settings import Settings
from tokentrail_collector.storage import KeyStore, Store, StoreUnavailable


class KeyAdmin:
    """create/list/revoke with plain dicts, whichever way the store is reached."""

    def __init__(self, *, store: Store | None = None, http: httpx.Client | None = None) -> None:
        self.store = store
        self.keys = KeyStore(store) if store is not None else None
        self.http = http

    @classmethod
    def connect(cls, settings: Settings, *, url: str | None = None) -> KeyAdmin:
        try:
            if Store.held_by_another_process(settings.clickhouse_url):
                raise StoreUnavailable(f"{settings.clickhouse_url} is held by a running collector")
            store = Store.open(settings.clickhouse_url, cluster=settings.clickhouse_cluster)
        except StoreUnavailable as direct_error:
            base_url = url or f"http://127.0.0.1:{settings.port}"
            token = os.environ.get("TOKENTRAIL_ADMIN_TOKEN") or read_admin_token(settings.admin_token_file)
            if token is None:
                raise RuntimeError(
                    f"cannot open the store ({direct_error}) and found no admin token in "
                    f"{settings.admin_token_file} or TOKENTRAIL_ADMIN_TOKEN"
                ) from direct_error
            http = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
            try:
                http.get("/healthz").raise_for_status()
            except httpx.HTTPError as exc:
                http.close()
                raise RuntimeError(
                    f"cannot open the store ({direct_error}) nor reach a collector at {base_url}"
                ) from exc
            return cls(http=http)
        store.migrate()
        return cls(store=store)

    def create(self, project_id: str, name: str = "") -> dict[str, Any]:
        if self.keys is not None:
            return as_dict(self.keys.create(project_id, name))
        return self.checked(
            self.http_client.post("/api/admin/keys", json={"project_id": project_id, "name": name})
        )

    def list(self, project_id: str | None = None) -> list[dict[str, Any]]:
        if self.keys is not None:
            return [as_dict(key) for key in self.keys.list(project_id)]
        params = {"project_id": project_id} if project_id else {}
        return self.checked(self.http_client.get("/api/admin/keys", params=params))

    def revoke(self, key_id: str) -> bool:
        if self.keys is not None:
            return self.keys.revoke(key_id)
        response = self.http_client.delete(f"/api/admin/keys/{key_id}")
        if response.status_code == 404:
            return False
        self.checked(response)
        return True

    @property
    def http_client(self) -> httpx.Client:
        assert self.http is not None
        return self.http

    @staticmethod
    def checked(response: httpx.Response) -> Any:
        if response.is_error:
            raise RuntimeError(f"collector answered {response.status_code}: {response.text}")
        return response.json() if response.content else None

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
        if self.http is not None:
            self.http.close()

    def __enter__(self) -> KeyAdmin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def as_dict(record: Any) -> dict[str, Any]:
    from dataclasses import asdict, is_dataclass

    if is_dataclass(record) and not isinstance(record, type):
        return asdict(record)
    return dict(record)
