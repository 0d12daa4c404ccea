"""Vega-Lite charts (Altair) the built-in line and area charts cannot draw: waterfall, distributions.

Chart builders take frames from `shaping` and return Altair charts; pages hand them to
`st.altair_chart`. Nothing here imports streamlit.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from tokentrail import semconv as sc

ROW_HEIGHT_PX = 26
LABEL_WIDTH_PX = 260


def waterfall(tree: pd.DataFrame) -> alt.Chart:
    """A trace's spans as bars from start to end, one row each in tree order, coloured by kind;
    failed spans are outlined in red. `tree` is `shaping.trace_tree.tree(spans)`."""
    data = pd.DataFrame(
        {
            "span": tree["label"],
            "start_ms": tree["offset_ms"].round(2),
            "end_ms": tree["end_offset_ms"].round(2),
            "duration_ms": tree[sc.DURATION_MS].astype(float).round(2),
            "kind": tree[sc.KIND],
            "status": tree[sc.STATUS_CODE],
            "model": tree[sc.REQUEST_MODEL].fillna("") if sc.REQUEST_MODEL in tree else "",
        }
    )
    failed = data["status"] == sc.StatusCode.ERROR.value
    return (
        alt.Chart(data.assign(failed=failed))
        .mark_bar(cornerRadius=2, minBandSize=2, height={"band": 0.7})
        .encode(
            x=alt.X("start_ms:Q", title="ms since the trace started"),
            x2="end_ms:Q",
            # Left-aligned labels keep the tree's indentation visible.
            y=alt.Y(
                "span:N",
                sort=list(data["span"]),
                title=None,
                axis=alt.Axis(labelAlign="left", labelLimit=LABEL_WIDTH_PX, labelPadding=LABEL_WIDTH_PX),
            ),
            color=alt.Color("kind:N", legend=alt.Legend(orient="bottom", title=None)),
            stroke=alt.Stroke(
                "failed:N",
                scale=alt.Scale(domain=[True, False], range=["#c62828", "transparent"]),
                legend=None,
            ),
            strokeWidth=alt.value(2),
            tooltip=["span", "kind", "status", "model", "start_ms", "duration_ms"],
        )
        .properties(height=alt.Step(ROW_HEIGHT_PX))
    )


def distributions(long: pd.DataFrame, order: list[str], *, title: str) -> alt.Chart:
    """Baseline and current distributions overlaid: `long` has (bucket, side, share) rows, `order`
    the buckets left to right (`shaping.drift.distribution_long`)."""
    return (
        alt.Chart(long)
        .mark_bar(opacity=0.55)
        .encode(
            x=alt.X("bucket:N", sort=order, title=title, axis=alt.Axis(labelAngle=-30, labelLimit=140)),
            y=alt.Y("share:Q", title="share of spans", axis=alt.Axis(format="%"), stack=None),
            color=alt.Color(
                "side:N",
                title=None,
                scale=alt.Scale(domain=["baseline", "current"], range=["#5c6bc0", "#ef6c00"]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=["side", "bucket", alt.Tooltip("share:Q", format=".1%")],
        )
    )
