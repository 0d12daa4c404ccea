"""Reading what an AppTest run shows: every text on the page, tables by their columns, charts."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from streamlit.testing.v1 import AppTest

TEXT_ELEMENTS = (
    "title",
    "header",
    "subheader",
    "markdown",
    "caption",
    "info",
    "success",
    "warning",
    "error",
    "code",
    "text",
)


def texts(app: AppTest) -> list[str]:
    """Every text shown, in page order within each kind of element."""
    found: list[str] = []
    for kind in TEXT_ELEMENTS:
        found.extend(str(element.value) for element in getattr(app, kind))
    found.extend(f"{metric.label}: {metric.value}" for metric in app.metric)
    return found


def page_text(app: AppTest) -> str:
    return "\n".join(texts(app))


def metrics(app: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}


def table_with(app: AppTest, columns: Iterable[str]) -> pd.DataFrame:
    """The first table shown that has all of `columns`."""
    wanted = set(columns)
    for element in app.dataframe:
        value = element.value
        if not isinstance(value, pd.DataFrame):  # a Styler
            value = value.data
        if wanted <= set(value.columns):
            return value
    shown = [list(getattr(element.value, "columns", [])) for element in app.dataframe]
    raise AssertionError(f"no table with columns {sorted(wanted)}; tables: {shown}")


def charts(app: AppTest) -> list[object]:
    return list(app.get("vega_lite_chart"))
