"""A trace's spans as a tree and a waterfall: depth-first order, indentation and offsets in ms."""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from tokentrail import semconv as sc

INDENT = "· "  # a visible mark per level: charts and tables trim leading whitespace


def tree(spans: pd.DataFrame) -> pd.DataFrame:
    """`spans` (one trace, as `Client.trace` returns them) in depth-first order, children by start.

    Adds `depth`, `label` (the name indented by depth), `offset_ms` (start after the trace's first
    span) and `end_offset_ms`. A span whose parent is not in the trace is shown as a root.
    """
    if spans.empty:
        return spans.assign(depth=pd.Series(dtype=int), label="", offset_ms=0.0, end_offset_ms=0.0)
    ordered = spans.sort_values([sc.START_TIME, sc.SPAN_ID]).reset_index(drop=True)
    known = set(ordered[sc.SPAN_ID])
    children: dict[str, list[int]] = defaultdict(list)
    roots: list[int] = []
    for index, parent in enumerate(ordered[sc.PARENT_SPAN_ID]):
        if parent and parent in known:
            children[parent].append(index)
        else:
            roots.append(index)

    order: list[int] = []
    depths: list[int] = []
    stack = [(index, 0) for index in reversed(roots)]
    seen: set[int] = set()
    while stack:
        index, depth = stack.pop()
        if index in seen:  # a cycle of parent ids can only come from a broken sender; show each once
            continue
        seen.add(index)
        order.append(index)
        depths.append(depth)
        span_id = ordered.at[index, sc.SPAN_ID]
        stack.extend((child, depth + 1) for child in reversed(children.get(span_id, [])))

    result = ordered.loc[order].reset_index(drop=True)
    result["depth"] = depths
    result["label"] = _unique(
        [INDENT * depth + str(name) for depth, name in zip(depths, result[sc.NAME], strict=True)]
    )
    first = result[sc.START_TIME].min()
    result["offset_ms"] = (result[sc.START_TIME] - first).dt.total_seconds() * 1000
    result["end_offset_ms"] = result["offset_ms"] + result[sc.DURATION_MS].astype(float)
    return result


def _unique(labels: list[str]) -> list[str]:
    """Labels made unique (a chart row each) by numbering repeats: `llm.call`, `llm.call (2)`."""
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        unique.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return unique


def span_choice_label(row: pd.Series) -> str:
    """How a span is named in the span picker: indented name, kind and duration."""
    return f"{row['label']}  ·  {row[sc.KIND]}  ·  {float(row[sc.DURATION_MS]):,.1f} ms"


def trace_totals(spans: pd.DataFrame) -> dict[str, float | int | None]:
    """Duration, span count, tokens and cost of a whole trace, from its spans."""
    if spans.empty:
        return {"duration_ms": None, "spans": 0, "total_tokens": 0, "cost_usd": None, "errors": 0}
    duration = (spans[sc.END_TIME].max() - spans[sc.START_TIME].min()).total_seconds() * 1000
    costs = spans[sc.COST_USD].dropna()
    return {
        "duration_ms": duration,
        "spans": len(spans),
        "total_tokens": int(spans[sc.TOTAL_TOKENS].fillna(0).sum()),
        "cost_usd": float(costs.sum()) if len(costs) else None,
        "errors": int((spans[sc.STATUS_CODE] == sc.StatusCode.ERROR.value).sum()),
    }
