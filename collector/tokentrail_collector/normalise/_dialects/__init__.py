"""The dialects the normaliser reads, in precedence order: an earlier dialect's value wins.

tokentrail's own keys first, then OpenTelemetry's (general, GenAI, deprecated GenAI), then the
other instrumentations' own keys, and content carried in span events last, so that a value in an
attribute always beats one pieced together from events. To read another convention, add a module
here with its `Dialect` and put it in `DIALECTS`.
"""

from __future__ import annotations

from tokentrail_collector.normalise._dialect import Dialect
from tokentrail_collector.normalise._dialects.genai import GENAI, GENAI_DEPRECATED
from tokentrail_collector.normalise._dialects.genai_events import GENAI_EVENTS
from tokentrail_collector.normalise._dialects.langfuse import LANGFUSE
from tokentrail_collector.normalise._dialects.openinference import OPENINFERENCE
from tokentrail_collector.normalise._dialects.openlit import OPENLIT
from tokentrail_collector.normalise._dialects.openllmetry import OPENLLMETRY
from tokentrail_collector.normalise._dialects.otel import OTEL
from tokentrail_collector.normalise._dialects.tokentrail import TOKENTRAIL

DIALECTS: tuple[Dialect, ...] = (
    TOKENTRAIL,
    OTEL,
    GENAI,
    GENAI_DEPRECATED,
    OPENLLMETRY,
    OPENINFERENCE,
    OPENLIT,
    LANGFUSE,
    GENAI_EVENTS,
)
