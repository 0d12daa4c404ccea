"""The GPU page: utilisation, memory and power per device over time; energy per model."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from tests.ui.conftest import SeededCollector
from tests.ui.pages import charts, page_text, table_with
from tests.ui.seed import GPU_NAME


def test_devices_series_and_energy_per_model(
    open_page: Callable[..., AppTest], seeded: SeededCollector
) -> None:
    app = open_page("gpu")
    devices = table_with(app, ["device", "utilization max %", "memory max GiB", "power avg W"])
    assert list(devices["device"]) == [f"gpu-box · GPU 0 · {GPU_NAME}", f"gpu-box · GPU 1 · {GPU_NAME}"]
    assert list(devices["memory max GiB"]) == [20.0, 30.0]
    assert list(devices["power avg W"]) == [300.0, 350.0]
    assert len(charts(app)) == 4, "utilisation, memory, power and energy over time"
    text = page_text(app)
    assert "Utilisation (%)" in text and "Memory used (GiB)" in text and "Power (W)" in text

    energy = table_with(app, ["model", "energy J", "J per request", "J per 1k output tokens"])
    with_gpu = {str(trace["model"]) for trace in seeded.data.traces.values() if trace["gpu"]}
    assert set(energy["model"]) == with_gpu, "the models whose spans carry GPU figures"
    assert (energy["J per request"] > 0).all() and (energy["J per 1k output tokens"] > 0).all()


def test_a_range_without_gpu_data_explains_where_it_comes_from(open_page: Callable[..., AppTest]) -> None:
    app = open_page("gpu", sidebar={"tt_range": "Last 15 minutes", "tt_model": "claude-3-5-haiku"})
    assert "No GPU figures in this range" in page_text(
        app
    ) or "No model-call spans with GPU figures" in page_text(app)
