"""The drift part of `tokentrail_collector.analysis`'s public surface, and the routes it serves."""

from __future__ import annotations

import tokentrail_collector.analysis as analysis
from tokentrail_collector.app import create_app

DRIFT_NAMES = {
    "DriftScheduler",
    "create_monitor",
    "delete_monitor",
    "drift_report",
    "due_monitors",
    "evaluate_monitor",
    "get_monitor",
    "list_monitors",
    "monitor_results",
}


def test_drift_names_are_exported() -> None:
    assert DRIFT_NAMES <= set(analysis.__all__)
    for name in DRIFT_NAMES:
        assert getattr(analysis, name) is not None
    assert len(analysis.__all__) == len(set(analysis.__all__))


def test_the_drift_routes_are_in_the_openapi_document() -> None:
    paths = create_app().openapi()["paths"]
    assert set(paths["/api/drift"]) == {"post"}
    assert set(paths["/api/drift/monitors"]) == {"get", "post"}
    assert set(paths["/api/drift/monitors/{monitor_id}"]) == {"get", "delete"}
    assert set(paths["/api/drift/monitors/{monitor_id}/run"]) == {"post"}
    assert set(paths["/api/drift/monitors/{monitor_id}/results"]) == {"get"}
