"""CORS is off unless configured: exactly the configured origins get CORS headers."""

from __future__ import annotations

import httpx

from tests.security.conftest import ALLOWED_ORIGINS
from tests.support import CollectorProcess

PREFLIGHT = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}


def _cors_headers(response: httpx.Response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name.startswith("access-control-")}


def test_no_cors_headers_by_default(collector: CollectorProcess) -> None:
    for origin in (*ALLOWED_ORIGINS, "https://evil.example"):
        response = httpx.get(collector.url + "/healthz", headers={"Origin": origin})
        assert response.status_code == 200
        assert _cors_headers(response) == {}
        preflight = httpx.options(collector.url + "/api/traces", headers={"Origin": origin, **PREFLIGHT})
        assert _cors_headers(preflight) == {}
        assert preflight.status_code >= 400


def test_configured_origins_are_allowed(guarded: CollectorProcess) -> None:
    for origin in ALLOWED_ORIGINS:
        response = httpx.get(guarded.url + "/healthz", headers={"Origin": origin})
        assert response.headers["access-control-allow-origin"] == origin
        preflight = httpx.options(guarded.url + "/api/traces", headers={"Origin": origin, **PREFLIGHT})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == origin
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
        # Bearer keys travel in a header, never in cookies: no credentials mode.
        assert "access-control-allow-credentials" not in preflight.headers


def test_other_origins_get_no_allowance(guarded: CollectorProcess) -> None:
    response = httpx.get(guarded.url + "/healthz", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers
    preflight = httpx.options(
        guarded.url + "/api/traces", headers={"Origin": "https://evil.example", **PREFLIGHT}
    )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
