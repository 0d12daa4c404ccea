"""Every page of the running UI (`tokentrail ui` against a seeded collector) in headless Chromium:
what a person sees, checked by its text and elements, with a screenshot of each page saved under
tests/artifacts/. Tables are drawn on a canvas in the browser, so their cells are checked by the
AppTest tests; here it is the page around them: titles, metrics, chats, charts and messages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ui.browser import ARTIFACTS, UiProcess, chrome, ensure_chromium
from tests.ui.conftest import SeededCollector
from tests.ui.seed import DRIFTED_MODEL, STEADY_MODEL, TOOL_NAME

PAGE_LOAD_S = 60
NAVIGATION = ("Overview", "Traces", "GPU", "Drift", "Datasets", "Settings")


@pytest.fixture(scope="module")
def ui(seeded: SeededCollector, tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiProcess]:
    process = UiProcess(seeded.url, seeded.key, tmp_path_factory.mktemp("ui") / "ui.log").start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    ensure_chromium()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver = chrome()
    driver.set_page_load_timeout(PAGE_LOAD_S)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for_text(driver, *expected: str, timeout_s: float = PAGE_LOAD_S) -> str:  # noqa: ANN001
    """The page's text once every `expected` string is shown and the script run has finished."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def ready(_) -> str | bool:  # noqa: ANN001
        body = driver.find_element(By.TAG_NAME, "body").text
        running = driver.find_elements(
            By.CSS_SELECTOR, '[data-testid="stStatusWidget"] [data-testid="stStatusWidgetRunningIcon"]'
        )
        return body if all(text in body for text in expected) and not running else False

    try:
        return WebDriverWait(driver, timeout_s, poll_frequency=0.25).until(ready)
    except Exception as exc:  # the page as it was, to say what is missing
        body = driver.find_element(By.TAG_NAME, "body").text
        missing = [text for text in expected if text not in body]
        raise AssertionError(f"page never showed {missing}; it shows:\n{body[:3000]}") from exc


def check_page(driver, name: str, *expected: str, charts: int = 0) -> str:  # noqa: ANN001
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    body = wait_for_text(driver, *expected, *NAVIGATION, "Time range")
    assert "Traceback" not in body
    assert not driver.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]'), (
        f"{name}: an exception is shown"
    )
    if charts:
        WebDriverWait(driver, PAGE_LOAD_S).until(
            lambda _: (
                len(
                    driver.find_elements(
                        By.CSS_SELECTOR,
                        '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg',
                    )
                )
                >= charts
            )
        )
    driver.save_screenshot(str(ARTIFACTS / f"ui-{name}.png"))
    return body


def test_every_page_shows_its_key_elements(browser, ui: UiProcess, seeded: SeededCollector) -> None:  # noqa: ANN001
    driver = browser
    driver.get(ui.url + "/")
    body = check_page(
        driver,
        "overview",
        "Overview",
        "Requests",
        "Latency p50",
        "Top errors",
        "Most expensive traces",
        charts=4,
    )
    assert str(len(seeded.data.traces) + len(seeded.scenario)) in body

    question = str(seeded.data.traces[seeded.data.tool_trace]["question"])
    driver.get(f"{ui.url}/traces?trace={seeded.data.tool_trace}")
    check_page(
        driver, "traces", "Trace: answer", seeded.data.tool_trace, question, TOOL_NAME, "Scores", charts=1
    )

    driver.get(ui.url + "/gpu")
    check_page(driver, "gpu", "Devices", "Utilisation (%)", "Memory used (GiB)", "Energy per model", charts=4)

    driver.get(ui.url + "/datasets")
    check_page(
        driver, "datasets", "Build a dataset from traces", "Items the dataset would hold", "Create dataset"
    )

    driver.get(ui.url + "/settings")
    check_page(driver, "settings", "Collector URL", "the API key was accepted", "Custom prices")


def wait_for_element(driver, selector: str, what: str, timeout_s: float = PAGE_LOAD_S):  # noqa: ANN001, ANN201
    """The element once the page has drawn it: a page's text can arrive before the widgets around it
    are mounted (the sidebar's select boxes are re-mounted when their options change in a rerun)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout_s, poll_frequency=0.25).until(
            lambda _: next(
                (
                    element
                    for element in driver.find_elements(By.CSS_SELECTOR, selector)
                    if element.is_displayed()
                ),
                False,
            )
        )
    except Exception as exc:  # say what the page showed instead
        driver.save_screenshot(str(ARTIFACTS / "ui-missing-element.png"))
        body = driver.find_element(By.TAG_NAME, "body").text
        raise AssertionError(f"page never showed {what} ({selector}); it shows:\n{body[:3000]}") from exc


def choose(driver, label: str, option: str, attempts: int = 3) -> None:  # noqa: ANN001
    """Pick `option` in the select box labelled `label`, as a person does: open it, click the option.
    A rerun that re-mounts the box midway makes the handle stale; then it is found again."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    def shown_option():  # noqa: ANN202
        items = driver.find_elements(By.CSS_SELECTOR, '[role="option"]')
        return next((item for item in items if item.text == option), False)

    for attempt in range(attempts):
        try:
            box = wait_for_element(driver, f'input[aria-label="{label}"]', f"the select box {label!r}")
            box.click()
            box.send_keys(Keys.CONTROL, "a")
            box.send_keys(option)
            WebDriverWait(driver, PAGE_LOAD_S).until(lambda _: shown_option()).click()
            return
        except StaleElementReferenceException:
            if attempt == attempts - 1:
                raise


def test_a_drift_report_computed_in_the_browser(browser, ui: UiProcess) -> None:  # noqa: ANN001
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(ui.url + "/drift")
    wait_for_text(driver, "Compute drift report", "Scheduled drift checks")
    choose(driver, "Model", DRIFTED_MODEL)
    wait_for_text(driver, f"Only model {DRIFTED_MODEL}")
    choose(driver, "Time ranges", "Last 3 hours vs the 3 hours before")
    button = next(b for b in driver.find_elements(By.TAG_NAME, "button") if b.text == "Compute drift report")
    button.click()
    body = check_page(driver, "drift", "Overall:", "Features", "Distributions", "Prompt topics", charts=1)
    assert "drifted" in body


def test_navigation_and_the_shared_filter_work_between_pages(
    browser,  # noqa: ANN001
    ui: UiProcess,
    seeded: SeededCollector,
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(ui.url + "/")  # a new session: the filter starts at all models
    body = wait_for_text(driver, "Requests", "Most expensive traces")
    assert f"model {STEADY_MODEL}" not in body
    choose(driver, "Model", STEADY_MODEL)
    # The Overview's caption and figures follow the filter: the scenario's pipeline calls both models.
    requests = seeded.data.count(model=STEADY_MODEL) + 1
    wait_for_text(driver, f"model {STEADY_MODEL}", "Most expensive traces")
    driver.save_screenshot(str(ARTIFACTS / "ui-overview-filtered.png"))

    link = next(
        a
        for a in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebarNav"] a')
        if "Traces" in a.text
    )
    link.click()
    body = wait_for_text(
        driver,
        "Search",
        "Sort by",
        "select a row to open it",
        "Open a trace by id",
        f"model {STEADY_MODEL}",  # the page's caption: the filter came along
        f"{requests:,} traces",
    )
    assert "/traces" in driver.current_url
    model_box = wait_for_element(
        driver, '[data-testid="stSelectbox"]:has(input[aria-label="Model"])', "Model"
    )
    typed = model_box.find_element(By.CSS_SELECTOR, "input").get_attribute("value") or ""
    assert STEADY_MODEL in f"{model_box.text} {typed}", "the sidebar still shows the model picked on Overview"
    assert f"{len(seeded.data.traces) + len(seeded.scenario):,} traces" not in body
    driver.save_screenshot(str(ARTIFACTS / "ui-traces-list.png"))
