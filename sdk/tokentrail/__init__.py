"""tokentrail SDK: OpenTelemetry tracing for LLM applications, sent to a self-hosted collector.

    import tokentrail

    tokentrail.init(instrument=True)       # TOKENTRAIL_* environment variables fill the gaps;
                                           # instrument=True: openai and anthropic calls become spans

    @tokentrail.observe(kind="llm")
    def answer(question: str) -> str:
        ...
        tokentrail.update_current_span(model="gpt-4o", input_tokens=12, output_tokens=40)
        tokentrail.score("grounded", True, source="rule")   # a score on this span, sent off-thread

    tokentrail.score("thumbs", "down", trace_id=trace_id)   # user feedback on a whole trace, later

Importing the package does nothing: no provider, no thread, no patching until `init()` (or
`instrument()`, which patches the named client libraries; `uninstrument()` takes it off again).
"""

from tokentrail._context_attributes import attributes
from tokentrail._current_span import update_current_span
from tokentrail._export_queue import ExportStats
from tokentrail._observe import observe
from tokentrail._scores import ScoreStats, score, score_stats
from tokentrail._setup import export_stats, flush, init, shutdown
from tokentrail.instrumentation import instrument, uninstrument

__all__ = [
    "ExportStats",
    "ScoreStats",
    "attributes",
    "export_stats",
    "flush",
    "init",
    "instrument",
    "observe",
    "score",
    "score_stats",
    "shutdown",
    "uninstrument",
    "update_current_span",
]
