"""Auto-instrumentation of LLM client libraries: `instrument()` and `uninstrument()`.

    tokentrail.init(instrument=True)          # or tokentrail.instrument("openai", "anthropic")

Each supported library has one instrumentor (same shape for all, see `_base`), created on first
use; one registry and one loop switch them on and off. Nothing is imported or patched until
`instrument()` (or `init(instrument=...)`) runs; a library that is not installed is skipped with
a debug log line. Spans are recorded once `init()` has run; before that, and after `shutdown()`,
the instrumented methods just call through.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from tokentrail._internal import CAPTURE

if TYPE_CHECKING:
    from tokentrail.instrumentation._base import Instrumentor

# Library name -> "module:class" of its instrumentor, imported only when it is first needed.
INSTRUMENTORS: dict[str, str] = {
    "openai": "tokentrail.instrumentation.openai:OpenAIInstrumentor",
    "anthropic": "tokentrail.instrumentation.anthropic:AnthropicInstrumentor",
}

_instances: dict[str, Instrumentor] = {}
_lock = threading.RLock()


def instrument(*libraries: str) -> list[str]:
    """Instrument the named libraries (every supported one when none is named); idempotent.

    Returns the names of the libraries instrumented now, this call's and earlier ones. An unknown
    name raises `ValueError`; a library that is not installed is skipped.
    """
    names = resolve(libraries)
    with _lock:
        for name in names:
            with CAPTURE:
                _instrumentor(name).instrument()
        return instrumented()


def uninstrument(*libraries: str) -> None:
    """Take tokentrail's wrappers off the named libraries (all when none is named); idempotent."""
    names = resolve(libraries)
    with _lock:
        for name in names:
            instance = _instances.get(name)
            if instance is not None:
                with CAPTURE:
                    instance.uninstrument()


def instrumented() -> list[str]:
    """The libraries instrumented at present."""
    return sorted(name for name, instance in _instances.items() if instance.active)


def resolve(libraries: Iterable[str]) -> list[str]:
    """Validated library names; none given means every supported library."""
    names = list(libraries) or list(INSTRUMENTORS)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"library names are strings, got {name!r}")
        if name not in INSTRUMENTORS:
            raise ValueError(f"tokentrail cannot instrument {name!r}; it knows {sorted(INSTRUMENTORS)}")
    return names


def _instrumentor(name: str) -> Instrumentor:
    instance = _instances.get(name)
    if instance is None:
        module_name, _, class_name = INSTRUMENTORS[name].partition(":")
        instance = getattr(importlib.import_module(module_name), class_name)()
        _instances[name] = instance
    return instance
