"""Map a call's `(args, kwargs)` to parameter names, cheaply, for the recorded input.

`inspect.Signature.bind` costs several microseconds a call; the signature is read once at
decoration time instead and each call only zips names with values. The result equals
`signature.bind(*args, **kwargs).arguments` (defaults not applied) for any valid call, minus a
leading `self`/`cls`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_RECEIVER_NAMES = frozenset({"self", "cls"})


class ArgumentBinder:
    __slots__ = ("_skip_receiver", "_positional", "_keyword_names", "_var_positional", "_var_keyword")

    def __init__(self, func: Callable[..., Any]) -> None:
        try:
            parameters = list(inspect.signature(func).parameters.values())
        except (TypeError, ValueError):  # builtins without a signature: record the raw call
            parameters = [
                inspect.Parameter("args", inspect.Parameter.VAR_POSITIONAL),
                inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD),
            ]
        self._skip_receiver = bool(
            parameters and parameters[0].kind in _POSITIONAL and parameters[0].name in _RECEIVER_NAMES
        )
        if self._skip_receiver:
            parameters = parameters[1:]
        self._positional = tuple(p.name for p in parameters if p.kind in _POSITIONAL)
        self._keyword_names = frozenset(
            p.name
            for p in parameters
            if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        )
        self._var_positional = next(
            (p.name for p in parameters if p.kind is inspect.Parameter.VAR_POSITIONAL), None
        )
        self._var_keyword = next(
            (p.name for p in parameters if p.kind is inspect.Parameter.VAR_KEYWORD), None
        )

    def bind(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
        if self._skip_receiver:
            args = args[1:]
        names = self._positional
        bound = dict(zip(names, args, strict=False))  # extra args are handled below
        if len(args) > len(names):
            bound[self._var_positional or "args"] = args[len(names) :]
        if kwargs:
            extra: dict[str, Any] | None = None
            for key, value in kwargs.items():
                if key in self._keyword_names:
                    bound[key] = value
                else:
                    if extra is None:
                        extra = {}
                    extra[key] = value
            if extra is not None:
                bound[self._var_keyword or "kwargs"] = extra
        return bound
