"""What the per-call code needs once `init()` has run: the tracer and the content policy.

`active` is None until `init()` and after `shutdown()`; `@observe` then calls straight through.
Replaced as a whole (one attribute write), so readers on other threads see old or new, never half.
"""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry.trace import Tracer

from tokentrail._content import ContentPolicy


@dataclass(frozen=True, slots=True)
class Runtime:
    tracer: Tracer
    content: ContentPolicy


active: Runtime | None = None
