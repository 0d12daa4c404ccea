"""GPU: utilisation, memory and power over time per device; energy per request and per 1k output tokens."""

from __future__ import annotations

import streamlit as st

from tokentrail_ui import components, connection, filters, loaders
from tokentrail_ui.shaping import gpu

session = connection.current()
chosen = filters.current()

st.title("GPU")
st.caption(chosen.describe())

# An API error anywhere below is a message on the page (components.api_errors).
with components.api_errors(session):
    bucket = loaders.bucket_seconds(session, chosen.window)
    points = loaders.gpu(session, chosen, bucket)
    by_model = loaders.stats(session, chosen, "model")
    energy = gpu.energy_per_model(by_model)

    if points.empty and energy.empty:
        st.info(
            "**No GPU figures in this range.** They come from apps that run models on a local NVIDIA GPU: "
            "install `tokentrail[gpu]` beside your app and `tokentrail.init()` samples NVML, adds GPU figures "
            "to model-call spans and sends GPU gauges (`TOKENTRAIL_GPU=false` turns it off).",
            icon=":material/memory:",
        )
        st.stop()

    if points.empty:
        st.caption("No GPU gauges in this range; the energy figures below come from spans.")
    else:
        st.subheader("Devices")
        st.dataframe(gpu.devices(points), hide_index=True)
        left, right = st.columns(2)
        with left:
            st.subheader("Utilisation (%)")
            st.line_chart(gpu.per_device(points, "utilization_avg_pct"))
            st.subheader("Power (W)")
            st.line_chart(gpu.per_device(points, "power_avg_watts"))
        with right:
            st.subheader("Memory used (GiB)")
            st.line_chart(gpu.per_device(points, "memory_used_max_bytes", scale=2**30))
            st.subheader("Energy per bucket (J)")
            st.bar_chart(gpu.per_device(points, "energy_joules"))

    st.subheader("Energy per model")
    if energy.empty:
        st.caption("No model-call spans with GPU figures in this range.")
    else:
        st.dataframe(
            energy,
            hide_index=True,
            column_config={
                "energy J": st.column_config.NumberColumn(format="%.1f"),
                "J per request": st.column_config.NumberColumn(format="%.2f"),
                "J per 1k output tokens": st.column_config.NumberColumn(format="%.2f"),
            },
        )
