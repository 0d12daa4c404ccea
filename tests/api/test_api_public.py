"""The public surface of `tokentrail.api`, pinned: what notebooks and the UI may import."""

from __future__ import annotations

import tokentrail.api as api
from tokentrail.api import Client

EXPECTED = {
    "ApiError", "Client", "CollectorUnreachable", "DriftReport", "NotACollector", "NotFound", "TimeArg",
    "Unauthorized", "drift_window",
}  # fmt: skip


def test_exported_members() -> None:
    assert set(api.__all__) == EXPECTED
    assert all(hasattr(api, name) for name in api.__all__)


def test_every_endpoint_family_has_its_place_on_the_client() -> None:
    client = Client("http://127.0.0.1:9", api_key="tt_x")
    try:
        for family, methods in {
            "scores": ("create", "create_many", "list", "stats"),
            "drift": ("report", "monitors", "monitor", "create_monitor", "run_monitor", "results", "delete_monitor"),
            "datasets": ("preview", "create", "list", "get", "items", "versions", "add_items", "edit_item",
                         "remove_item", "export", "import_items"),
            "prices": ("list", "set", "delete"),
        }.items():  # fmt: skip
            assert all(callable(getattr(getattr(client, family), method)) for method in methods), family
        assert all(
            callable(getattr(client, name))
            for name in ("health", "traces", "trace", "trace_spans", "stats", "gpu")
        )
    finally:
        client.close()
