"""A URL that answers, but not as a collector (a web page, a proxy's error page, plain text): the
client raises `NotACollector` saying so, never a JSONDecodeError."""

from __future__ import annotations

import pytest

from tests.api.impostor import impostor
from tokentrail.api import ApiError, Client, NotACollector


def test_a_web_page_answering_200_is_not_a_collector() -> None:
    with impostor() as url, Client(url, api_key="tt_x", timeout_s=5) as api:
        for call in (api.health, api.traces, lambda: api.stats(group_by="none"), api.datasets.list):
            with pytest.raises(NotACollector) as raised:
                call()
            assert str(raised.value) == (
                f"200: {url} answered but is not a tokentrail collector (got text/html)"
            )
            assert raised.value.url == url and raised.value.content_type == "text/html"
        with pytest.raises(NotACollector, match="got text/html"):
            api.datasets.export("d" * 32, "csv")


def test_a_proxy_error_page_is_not_a_collector_either() -> None:
    with impostor(status=502) as url, Client(url, api_key="tt_x", timeout_s=5) as api:
        with pytest.raises(NotACollector) as raised:
            api.traces()
    assert raised.value.status == 502 and "is not a tokentrail collector" in raised.value.message


def test_a_body_that_is_not_json_names_its_content_type() -> None:
    with impostor(content_type="text/plain", body=b"ok") as url, Client(url, api_key="tt_x") as api:
        with pytest.raises(NotACollector, match=r"got text/plain\)$") as raised:
            api.health()
    assert isinstance(raised.value, ApiError)


def test_a_plain_text_error_keeps_its_own_status_and_message() -> None:
    """Only web pages are taken for another server: a text error still reads as the collector's."""
    with impostor(status=429, content_type="text/plain", body=b"slow down") as url:
        with Client(url, api_key="tt_x") as api, pytest.raises(ApiError) as raised:
            api.traces()
    assert not isinstance(raised.value, NotACollector)
    assert (raised.value.status, raised.value.message) == (429, "slow down")


def test_json_that_is_not_an_object_is_not_a_collector() -> None:
    with impostor(content_type="application/json", body=b"[1, 2]") as url, Client(url, api_key="tt_x") as api:
        with pytest.raises(NotACollector, match=r"got JSON list, not an object\)$"):
            api.health()
