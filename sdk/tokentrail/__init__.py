"""tokentrail SDK: OpenTelemetry tracing for LLM applications, sent to a self-hosted collector.

    import tokentrail

    tokentrail.init(instrument=True)       # TOKENTRAIL_* environment variables fill the gaps;
                                           # instrument=True: openai and anthropic calls become spans

    @tokentrail.observe(kind="llm")
    def answer(question: str) -> str:
        ...
        tokentrail.update_current_span(model="gpt-4o", input_tokens=12, output_tokens=40)

Importing the package does nothing: no provider, no thread, no patching until `init()` (or
`instrument()`, which patches the named client libraries; `uninstrument()` takes it off again).
"""

from tokentrail._context_attributes import attributes
from tokentrail._current_span import update_current_span
from tokentrail._export_queue import ExportStats
from tokentrail._observe import observe
from tokentrail._setup import export_stats, flush, init, shutdown
from tokentrail.instrumentation import instrument, uninstrument

__all__ = [
    "ExportStats",
    "attributes",
    "export_stats",
    "flush",
    "init",
    "instrument",
    "observe",
    "shutdown",
    "uninstrument",
    "update_current_span",
]
