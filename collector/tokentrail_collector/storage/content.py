"""Span content that arrived as log records (`span_content`), merged into a trace's spans on read.

Instrumentations that keep content out of spans send it as GenAI log records tied to the span;
they are stored apart (POST /v1/logs) and joined here when a trace is read, so the order in
which a span and its records arrive does not matter. A span's own text wins: only an empty
`input_text` or `output_text` is filled from the records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tokentrail import semconv as sc
from tokentrail_collector.normalise.logs import content_texts
from tokentrail_collector.storage import sql
from tokentrail_collector.storage.store import Store


def merge_span_content(
    store: Store, project_id: str, trace_id: str, spans: Sequence[dict[str, object]]
) -> None:
    """Fill, in place, the empty input_text/output_text of `spans` (one trace's) from their
    content records. Reads nothing when every span already has both texts."""
    wanting = {
        span[sc.SPAN_ID]: span for span in spans if not span[sc.INPUT_TEXT] or not span[sc.OUTPUT_TEXT]
    }
    if not wanting:
        return
    records: dict[object, list[Mapping[str, object]]] = {}
    result = store.query(sql.TRACE_CONTENT, {"project_id": project_id, "trace_id": trace_id})
    for row in result.named_results():
        if row[sc.SPAN_ID] in wanting:
            records.setdefault(row[sc.SPAN_ID], []).append(row)
    for span_id, rows in records.items():
        span = wanting[span_id]
        input_text, output_text = content_texts(rows)
        if not span[sc.INPUT_TEXT]:
            span[sc.INPUT_TEXT] = input_text
        if not span[sc.OUTPUT_TEXT]:
            span[sc.OUTPUT_TEXT] = output_text
