"""The Settings page: the collector URL and key of the session, and custom prices that price
spans already stored."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from tests.ui.conftest import SeededCollector, app_session
from tests.ui.pages import metrics, page_text, table_with
from tests.ui.seed import UNPRICED_MODEL, send_unpriced_spans


def open_settings(url: str, key: str) -> AppTest:
    app = app_session(url, key)
    app.run()
    app.switch_page("pages/settings.py").run()
    assert not app.exception, [error.value for error in app.exception]
    return app


def test_the_connection_is_shown_and_tested(
    open_page: Callable[..., AppTest], seeded: SeededCollector
) -> None:
    app = open_page("settings")
    assert app.text_input[0].value == seeded.url
    assert any("the API key was accepted" in success.value for success in app.success)

    app.text_input[1].set_value("tt_wrong-key")
    next(button for button in app.button if button.label == "Save and test").click().run()
    assert not app.exception
    assert any("refused the API key" in error.value for error in app.error)


def test_a_custom_price_prices_the_spans_already_stored(seeded: SeededCollector) -> None:
    key = seeded.collector.create_key("ui-prices")["key"]
    send_unpriced_spans(seeded.collector, key)
    overview = app_session(seeded.url, key)
    overview.run()
    assert metrics(overview)["Unpriced"] == "4,500 tokens in 3 spans"
    assert metrics(overview)["Cost"] == "–"

    settings = open_settings(seeded.url, key)
    assert any(UNPRICED_MODEL in warning.value for warning in settings.warning)
    assert "No custom prices" in page_text(settings)
    form = {field.label: field for field in settings.number_input}
    assert {field.label: field.value for field in settings.text_input}["Model pattern"] == UNPRICED_MODEL
    form["Input"].set_value(1.0)
    form["Output"].set_value(2.0)
    next(button for button in settings.button if button.label == "Save price").click().run()
    assert not settings.exception, [error.value for error in settings.exception]
    custom = table_with(settings, ["pattern", "input", "output"])
    assert list(custom["pattern"]) == [UNPRICED_MODEL] and list(custom["input"]) == [1.0]

    overview = app_session(seeded.url, key)
    overview.run()
    assert metrics(overview)["Unpriced"] == "0 tokens in 0 spans"
    assert metrics(overview)["Cost"] == "$0.006000", "3 x (1000 x $1 + 500 x $2) per 1M tokens"

    next(button for button in settings.button if button.label == "Delete").click().run()
    assert "No custom prices" in page_text(settings)
