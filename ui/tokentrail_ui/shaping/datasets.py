"""Datasets as the Datasets page builds and edits them: the mining filter from the page's choices,
the edits made in the item table, and export file names."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pandas as pd

from tokentrail_ui.shaping.window import Window

EXPORT_LABELS = {
    "jsonl": "Eval JSONL (input, expected_output, metadata)",
    "openai": "OpenAI fine-tuning JSONL (messages)",
    "csv": "CSV",
    "parquet": "Parquet",
}
EXTENSIONS = {"jsonl": "jsonl", "openai": "jsonl", "csv": "csv", "parquet": "parquet"}
MIME_TYPES = {
    "jsonl": "application/x-ndjson",
    "openai": "application/x-ndjson",
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
}
KINDS = ("llm", "embedding", "chain", "agent", "tool", "retrieval", "other")
STRATIFY_FIELDS = ("model", "provider", "service", "status", "kind")


def mining_filter(
    window: Window,
    *,
    kinds: Sequence[str] = ("llm",),
    models: Sequence[str] = (),
    services: Sequence[str] = (),
    status: str | None = None,
    text: str = "",
    tags: Sequence[str] = (),
    latency_percentile: float | None = None,
    latency_min_ms: float | None = None,
    cost_min_usd: float | None = None,
    score_name: str | None = None,
    score_value: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """The API's dataset filter for these choices; choices left empty are left out."""
    chosen: dict[str, Any] = {
        "start": window.start,
        "end": window.end,
        "kinds": list(kinds),
        "models": [model for model in models if model],
        "services": [service for service in services if service],
        "status": status,
        "text": text.strip() or None,
        "tags": [tag.strip() for tag in tags if tag.strip()],
        "latency_percentile": latency_percentile or None,
        "latency_min_ms": latency_min_ms or None,
        "cost_min_usd": cost_min_usd or None,
        "limit": limit,
    }
    if score_name:
        chosen["score"] = {"name": score_name, **({"value": score_value} if score_value else {})}
    return {name: value for name, value in chosen.items() if value not in (None, [])}


def report_lines(report: dict[str, Any]) -> list[str]:
    """What mining did, step by step, in words."""
    lines = [f"{report['matched']:,} spans match the filter; {report['considered']:,} read."]
    dedupe = report.get("dedupe")
    if dedupe:
        method = dedupe.get("method", "near-duplicate removal")
        threshold = dedupe.get("threshold")
        lines.append(
            f"Removed {report['exact_duplicates']:,} exact and {report['near_duplicates']:,} near duplicates "
            f"({method}" + (f", similarity ≥ {threshold}" if threshold is not None else "") + ")."
        )
    else:
        lines.append("Duplicates kept (removal off).")
    sample = report.get("sample")
    if sample:
        how = f"stratified by {sample['stratify_by']}" if sample.get("stratify_by") else "at random"
        lines.append(f"Sampled {report['items']:,} of {report['after_dedupe']:,} {how}.")
    return lines


def edited_expectations(before: pd.DataFrame, after: pd.DataFrame) -> list[tuple[str, str]]:
    """(item id, new expected output) for each row whose expected output was changed in the editor."""
    if before.empty:
        return []
    old = before.set_index("item_id")["expected_output"]
    new = after.set_index("item_id")["expected_output"]
    return [
        (str(item_id), "" if value is None or pd.isna(value) else str(value))
        for item_id, value in new.items()
        if item_id in old.index
        and str(old[item_id] or "") != ("" if value is None or pd.isna(value) else str(value))
    ]


def export_file_name(dataset_name: str, version: int, export_format: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", dataset_name).strip("-.") or "dataset"
    suffix = "-openai" if export_format == "openai" else ""
    return f"{stem}-v{version}{suffix}.{EXTENSIONS[export_format]}"


def import_format(file_name: str, chosen: str | None = None) -> str | None:
    """The format of an uploaded file: the one chosen, else from its extension."""
    if chosen:
        return chosen
    extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    return {"jsonl": "jsonl", "json": "jsonl", "csv": "csv", "parquet": "parquet"}.get(extension)
