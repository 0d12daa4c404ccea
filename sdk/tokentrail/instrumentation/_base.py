"""The one shape of every instrumentor (after opentelemetry-python-contrib's `BaseInstrumentor`).

An instrumentor names its library and lists the methods it wraps; `instrument()` patches them with
`wrapt.wrap_function_wrapper`, `uninstrument()` takes exactly those wrappers off again, and both are
idempotent. The wrappers read `active` on every call, so one left in place beneath someone else's
wrapper (which `uninstrument()` cannot always remove) is a plain pass-through.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import wrapt

from tokentrail._internal import logger

# wrapt's wrapper signature: (wrapped, instance, args, kwargs) -> result
WrapperFunction = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]
# What `wrapt.wrap_function_wrapper` puts in place of the method: the handle to take it off again.
Handle = wrapt.FunctionWrapper[..., Any]


@dataclass(frozen=True, slots=True)
class Patch:
    """One method to wrap: `module`'s attribute at the dotted `path` (e.g. `Completions.create`)."""

    module: str
    path: str
    wrapper: WrapperFunction


class Instrumentor:
    """Base class: subclasses set `name` and `library` and implement `patches()`."""

    name: str = ""  # the name `tokentrail.instrument()` knows it by
    library: str = ""  # the import name of the instrumented library

    def __init__(self) -> None:
        self.active = False
        self._applied: list[tuple[Patch, Handle]] = []
        self._lock = threading.Lock()

    def patches(self) -> Sequence[Patch]:
        """The methods to wrap; called by `instrument()` only, so the library is imported only then."""
        raise NotImplementedError

    def is_available(self) -> bool:
        return importlib.util.find_spec(self.library) is not None

    def instrument(self) -> bool:
        """Wrap the library's methods (once); False when the library is not installed."""
        with self._lock:
            if self.active:
                return True
            if not self.is_available():
                logger.debug("tokentrail: %s is not installed; not instrumented", self.library)
                return False
            try:
                patches = self.patches()
            except (ImportError, AttributeError) as error:  # a release too old or too different
                logger.warning(
                    "tokentrail: this %s release is not supported; not instrumented (%s)", self.library, error
                )
                return False
            for patch in patches:
                handle = _wrap(patch)
                if handle is not None:
                    self._applied.append((patch, handle))
            self.active = True
            return True

    def uninstrument(self) -> None:
        """Take off every wrapper `instrument()` put on (nothing if it was not instrumented)."""
        with self._lock:
            self.active = False
            applied, self._applied = self._applied, []
            for patch, handle in reversed(applied):
                try:
                    _unwrap(patch, handle)
                except Exception as error:  # left in place, inactive: a pass-through
                    logger.warning(
                        "tokentrail: cannot remove the wrapper of %s.%s (%r)", patch.module, patch.path, error
                    )


def _wrap(patch: Patch) -> Handle | None:
    try:
        module = importlib.import_module(patch.module)
        return wrapt.wrap_function_wrapper(module, patch.path, patch.wrapper)
    except (ImportError, AttributeError) as error:
        # Another release of the library: what exists is instrumented, what does not is said once.
        logger.warning("tokentrail: cannot instrument %s.%s (%s)", patch.module, patch.path, error)
        return None


def _unwrap(patch: Patch, handle: Handle) -> None:
    module = importlib.import_module(patch.module)
    unwrap_object = getattr(wrapt, "unwrap_object", None)
    if unwrap_object is not None:  # wrapt 2: also finds our wrapper beneath someone else's
        unwrap_object(module, patch.path, handle, missing_ok=True)
        return
    owner_path, _, attribute = patch.path.rpartition(".")
    owner = module
    for part in filter(None, owner_path.split(".")):
        owner = getattr(owner, part)
    if vars(owner).get(attribute) is handle:
        setattr(owner, attribute, handle.__wrapped__)
    else:  # wrapped again on top of ours: ours stays, inactive, as a pass-through
        logger.debug("tokentrail: %s.%s was wrapped again; left in place, inactive", patch.module, patch.path)
