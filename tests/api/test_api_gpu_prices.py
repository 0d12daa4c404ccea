"""`Client.gpu()` and `Client.prices` against a real collector: GPU series per device, custom
prices that price stored spans, and the trace list's latency, cost, tag and sort options."""

from __future__ import annotations

from datetime import date

import pytest

from tests.support import CollectorProcess
from tests.ui.seed import (
    DRIFTED_MODEL,
    ERROR_TYPE,
    GPU_NAME,
    STEADY_MODEL,
    TAG,
    UNPRICED_MODEL,
    Seeded,
    send_unpriced_spans,
)
from tokentrail.api import ApiError, Client

TRACES_PER_SIDE = 10


def test_gpu_series_are_one_row_per_device_and_bucket(client: Client, seeded: Seeded) -> None:
    series = client.gpu(bucket_seconds=300)
    assert series.attrs["bucket_seconds"] == 300
    assert set(series["device_index"]) == {0, 1} and set(series["device_name"]) == {GPU_NAME}
    assert set(series["host"]) == {"gpu-box"}
    assert str(series["bucket"].dtype).startswith("datetime64")
    device_1 = series[series["device_index"] == 1]
    assert device_1["power_avg_watts"].eq(350.0).all()
    assert device_1["memory_used_max_bytes"].max() == 30 * 2**30
    assert device_1["energy_joules"].sum() > 0
    only_0 = client.gpu(device=0, bucket_seconds=300)
    assert set(only_0["device_index"]) == {0}
    nothing = client.gpu(end="2000-01-01T00:00:00Z")
    assert nothing.empty and {"device_index", "bucket", "utilization_avg_pct"} <= set(nothing.columns)


def test_stats_count_the_spans_that_carry_gpu_figures(client: Client, seeded: Seeded) -> None:
    """`gpu_span_count` is what energy per request divides by: not every span of the model."""
    by_model = client.stats(group_by="model").set_index("group")
    for model in (DRIFTED_MODEL, STEADY_MODEL):
        assert by_model.loc[model, "gpu_span_count"] == seeded.count(model=model, gpu=True) > 0
        assert by_model.loc[model, "span_count"] == seeded.count(model=model)


def test_a_custom_price_prices_stored_spans(
    client: Client, collector: CollectorProcess, seeded: Seeded
) -> None:
    key = collector.create_key("api-prices")["key"]
    send_unpriced_spans(collector, key)
    with Client(collector.url, api_key=key) as priced:
        before = priced.stats(group_by="none")
        assert before.iloc[0]["unpriced_spans"] == 3 and before.iloc[0]["unpriced_input_tokens"] == 3000

        table = priced.prices.list()
        assert table.attrs["table_version"] and set(table["cost_source"]) == {"price_table"}
        row = priced.prices.set(f"{UNPRICED_MODEL[:-2]}*", input=1.0, output=2.0, note="contract")
        assert row["cost_source"] == "custom_price" and row["patterns"] == ["acme-llm*"]
        for_model = priced.prices.list(model=UNPRICED_MODEL)
        assert for_model.attrs["in_force"]["model_key"] == "acme-llm*"

        after = priced.stats(group_by="none").iloc[0]
        assert after["unpriced_spans"] == 0 and after["cost_usd"] == pytest.approx(0.006)
        priced.prices.delete("acme-llm*")
        assert priced.stats(group_by="none").iloc[0]["unpriced_spans"] == 3
        with pytest.raises(ApiError):
            priced.prices.set("acme", input=-1, output=1)
        dated = priced.prices.set("acme-llm*", input=1, output=1, effective_from=date(2000, 1, 1))
        assert str(dated["effective_from"]).startswith("2000-01-01")


def test_trace_filters_and_orders(client: Client, seeded: Seeded) -> None:
    slow = client.traces(min_duration_ms=1400, limit=1000)
    assert set(slow["trace_id"]) == {t for t, facts in seeded.traces.items() if facts["drifted"]}
    tagged = client.traces(tag=TAG, limit=1000)
    assert set(tagged["trace_id"]) == {t for t, facts in seeded.traces.items() if facts["tool_call"]}
    costly = client.traces(min_cost_usd=0.0002, limit=1000)
    assert (costly["cost_usd"] >= 0.0002).all() and len(costly) > 0
    by_cost = client.traces(sort="cost", limit=5)
    assert (
        by_cost.iloc[0]["trace_id"] == seeded.costliest_trace and by_cost["cost_usd"].is_monotonic_decreasing
    )
    by_duration = client.traces(sort="duration", limit=5)
    assert by_duration["duration_ms"].is_monotonic_decreasing

    errors = client.stats(group_by="error_type")
    failed = errors[errors["group"] == ERROR_TYPE].iloc[0]
    assert failed["error_count"] == seeded.count(failed=True)
    with pytest.raises(ApiError) as bad:
        client.traces(sort="random")  # type: ignore[arg-type]
    assert bad.value.status == 422 and "sort" in bad.value.message
