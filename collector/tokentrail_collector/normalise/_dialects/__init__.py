"""The dialects the normaliser reads, in precedence order: an earlier dialect's value wins.

To read another convention, add a module here with its `Dialect` and put it in `DIALECTS`.
"""

from __future__ import annotations

from tokentrail_collector.normalise._dialect import Dialect
from tokentrail_collector.normalise._dialects.genai import GENAI, GENAI_DEPRECATED
from tokentrail_collector.normalise._dialects.otel import OTEL
from tokentrail_collector.normalise._dialects.tokentrail import TOKENTRAIL

DIALECTS: tuple[Dialect, ...] = (TOKENTRAIL, OTEL, GENAI, GENAI_DEPRECATED)
