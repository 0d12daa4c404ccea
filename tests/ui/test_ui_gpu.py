"""The GPU page: utilisation, memory and power per device over time; energy per model."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from tests.ui.conftest import SeededCollector
from tests.ui.pages import charts, page_text, table_with
from tests.ui.seed import GPU_NAME
from tokentrail import semconv as sc
from tokentrail.api import Client


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

    energy = table_with(app, ["model", "GPU spans", "energy J", "J per request", "J per 1k output tokens"])
    expected = seeded_energy(seeded)
    assert set(energy["model"]) == set(expected), "the models whose spans carry GPU figures"
    for model, row in energy.set_index("model").iterrows():
        joules, output_tokens = expected[str(model)]
        assert row["GPU spans"] == len(joules), "only the spans with GPU figures count as requests"
        assert row["energy J"] == pytest.approx(sum(joules))
        assert row["J per request"] == pytest.approx(sum(joules) / len(joules))
        assert row["J per 1k output tokens"] == pytest.approx(sum(joules) / output_tokens * 1000)


def seeded_energy(seeded: SeededCollector) -> dict[str, tuple[list[float], int]]:
    """Per model, the joules of each seeded LLM span with GPU figures and their output tokens, read
    span by span: the seed gives each 420 W over the call's duration (tests/ui/seed.py)."""
    per_model: dict[str, tuple[list[float], int]] = {}
    with Client(seeded.url, api_key=seeded.key) as api:
        for trace_id, facts in seeded.data.traces.items():
            if not facts["gpu"]:
                continue
            spans = api.trace(trace_id)
            llm = spans[spans[sc.KIND] == sc.SpanKind.LLM.value].iloc[0]
            assert llm[sc.GPU_ENERGY_JOULES] == pytest.approx(420.0 * llm[sc.DURATION_MS] / 1000)
            joules, tokens = per_model.get(str(facts["model"]), ([], 0))
            per_model[str(facts["model"])] = (
                [*joules, float(llm[sc.GPU_ENERGY_JOULES])],
                tokens + int(llm[sc.OUTPUT_TOKENS]),
            )
    return per_model


def test_a_range_without_gpu_data_explains_where_it_comes_from(open_page: Callable[..., AppTest]) -> None:
    app = open_page("gpu", sidebar={"tt_range": "Last 15 minutes", "tt_model": "claude-3-5-haiku"})
    assert "No GPU figures in this range" in page_text(
        app
    ) or "No model-call spans with GPU figures" in page_text(app)
