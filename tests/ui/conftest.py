"""Fixtures of the UI tests: one seeded collector for the whole folder, and AppTest sessions on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.support import CollectorProcess, run_scenario
from tests.ui.seed import Seeded, seed
from tokentrail_ui import ENTRYPOINT
from tokentrail_ui.connection import KEY_STATE, URL_STATE

APP_TIMEOUT_S = 120


@dataclass(frozen=True)
class SeededCollector:
    collector: CollectorProcess
    key: str
    data: Seeded
    scenario: dict[str, str]  # trace ids of tests/e2e/scenario_app.py by role

    @property
    def url(self) -> str:
        return self.collector.url


@pytest.fixture(scope="package")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededCollector]:
    """A collector process holding the traces, GPU gauges and planted drift of tests/ui/seed.py."""
    data_dir: Path = tmp_path_factory.mktemp("ui-collector") / "data"
    collector = CollectorProcess(data_dir).start()
    try:
        key = collector.create_key("ui")["key"]
        data = seed(collector, key)
        scenario = run_scenario(collector, key)
        yield SeededCollector(collector, key, data, scenario)
    finally:
        collector.stop()


def app_session(url: str, key: str) -> AppTest:
    """The whole app (entrypoint and navigation) as one browser session would see it."""
    app = AppTest.from_file(str(ENTRYPOINT), default_timeout=APP_TIMEOUT_S)
    app.session_state[URL_STATE] = url
    app.session_state[KEY_STATE] = key
    return app


@pytest.fixture
def open_page(seeded: SeededCollector) -> Callable[..., AppTest]:
    """`open_page("traces", trace=...)`: a fresh session run on a page, with query parameters."""

    def opener(page: str = "overview", *, sidebar: dict[str, str] | None = None, **query: str) -> AppTest:
        app = app_session(seeded.url, seeded.key)
        for key, value in (sidebar or {}).items():  # the shared filter's widgets, before they are drawn
            app.session_state[key] = value
        app.query_params.update(query)
        app.run()
        assert not app.exception, [error.value for error in app.exception]
        if page != "overview":
            # AppTest runs only the entrypoint's first run whole; later runs (switch_page, widget
            # changes) execute the page script alone, with the filter the sidebar left in the
            # session state. The browser test covers the real navigation.
            app.switch_page(f"pages/{page}.py")
            app.query_params.update(query)
            app.run()
            assert not app.exception, [error.value for error in app.exception]
        return app

    return opener
