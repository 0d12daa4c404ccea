"""Scores typed on the Traces page: the value as the API takes it, checked before it is sent."""

from __future__ import annotations

import math
from typing import Literal

ScoreKind = Literal["numeric", "boolean", "categorical"]
THUMBS = "thumbs"  # the name of the thumbs up/down score
_TRUE = frozenset({"true", "yes", "1", "up", "👍"})
_FALSE = frozenset({"false", "no", "0", "down", "👎"})


def parse_value(kind: ScoreKind, text: str) -> bool | float | str:
    """`text` as a score value of `kind`; ValueError with a message a person can act on."""
    cleaned = text.strip()
    if not cleaned:
        raise ValueError("the score needs a value")
    if kind == "numeric":
        try:
            number = float(cleaned)
        except ValueError:
            raise ValueError(f"{cleaned!r} is not a number") from None
        if not math.isfinite(number):
            raise ValueError("the score must be a finite number")
        return number
    if kind == "boolean":
        lowered = cleaned.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"{cleaned!r} is not true or false")
    return cleaned


def thumbs_value(choice: int | None) -> bool | None:
    """`st.feedback("thumbs")`'s answer (1 up, 0 down, None nothing) as a boolean score."""
    return None if choice is None else bool(choice)
