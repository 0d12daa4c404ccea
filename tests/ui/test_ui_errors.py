"""Every page, run as an AppTest session, against a collector that does not answer, one that
refuses the key, a URL that is not a collector, and a project without data: a message that says
what to do, never a traceback."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.api.impostor import impostor
from tests.support import free_port
from tests.ui.conftest import SeededCollector, app_session
from tests.ui.pages import page_text

PAGES = ("overview", "traces", "gpu", "drift", "datasets", "settings")


def open_as(url: str, key: str, page: str) -> AppTest:
    """The app's first run (entrypoint and Overview), then `page` run alone as AppTest runs it."""
    app = app_session(url, key)
    app.run()
    assert not app.exception, [error.value for error in app.exception]
    if page != "overview":
        app.switch_page(f"pages/{page}.py").run()
        assert not app.exception, [error.value for error in app.exception]
    return app


def errors(app: AppTest) -> str:
    return "\n".join(str(error.value) for error in app.error)


@pytest.mark.parametrize("page", PAGES)
def test_an_unreachable_collector_is_a_message_on_every_page(page: str) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    app = open_as(url, "tt_whatever", page)
    assert f"The collector at {url} does not answer" in errors(app)
    assert "Settings" in errors(app)


@pytest.mark.parametrize("page", PAGES)
def test_a_refused_key_is_a_message_on_every_page(page: str, seeded: SeededCollector) -> None:
    app = open_as(seeded.url, "tt_not-a-real-key", page)
    assert "The collector refused the API key" in errors(app)


@pytest.mark.parametrize("page", PAGES)
def test_a_url_that_is_not_a_collector_is_a_message_on_every_page(page: str) -> None:
    """A web page answering 200 on every path (the UI's own URL, a proxy): the entrypoint's sidebar
    and every page still render, and say what answered."""
    with impostor() as url:
        first = open_as(url, "tt_whatever", "overview")
        assert first.sidebar.selectbox(key="tt_range").value, "the sidebar filter still renders"
        sidebar = "\n".join(str(caption.value) for caption in first.sidebar.caption)
        assert f"{url} answered, but it is not a tokentrail collector" in sidebar
        app = open_as(url, "tt_whatever", page)
        assert f"{url} answered, but it is not a tokentrail collector (got text/html)" in errors(app)
        if page == "settings":  # where the URL is fixed: its form renders
            assert app.text_input[0].value == url


EMPTY_STATES = {
    "overview": "No traces yet",
    "traces": "No traces yet",
    "gpu": "No GPU figures in this range",
    "drift": "Pick what to compare",
    "datasets": "No datasets yet",
    "settings": "No custom prices",
}


@pytest.fixture(scope="module")
def empty_key(seeded: SeededCollector) -> str:
    """A project on the seeded collector that has no data at all."""
    return seeded.collector.create_key("ui-nothing-yet")["key"]


@pytest.mark.parametrize("page", PAGES)
def test_a_project_without_data_gets_an_empty_state_on_every_page(
    page: str, seeded: SeededCollector, empty_key: str
) -> None:
    app = open_as(seeded.url, empty_key, page)
    assert not app.error, errors(app)
    assert EMPTY_STATES[page] in page_text(app)
