"""The public surface is explicit and importing it has no side effects."""

from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys
import textwrap

import pytest

import tokentrail


def test_all_is_pinned() -> None:
    assert tokentrail.__all__ == [
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
    for name in tokentrail.__all__:
        assert getattr(tokentrail, name) is not None


def test_public_names_are_exactly_all() -> None:
    public = {name for name in vars(tokentrail) if not name.startswith("_")}
    # Submodules become attributes of the package once imported; they are not part of __all__.
    modules = {name for name in public if inspect.ismodule(getattr(tokentrail, name))}
    assert public - modules == set(tokentrail.__all__)


def test_optional_arguments_are_keyword_only() -> None:
    functions = (
        tokentrail.init,
        tokentrail.update_current_span,
        tokentrail.attributes,
        tokentrail.flush,
        tokentrail.shutdown,
    )
    for function in functions:
        parameters = inspect.signature(function).parameters.values()
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters), function


def test_import_does_nothing() -> None:
    script = textwrap.dedent(
        """
        import atexit, threading
        from opentelemetry import trace
        registered = []
        atexit.register = lambda *a, **k: registered.append(a)
        import tokentrail
        assert threading.active_count() == 1, threading.enumerate()
        assert type(trace.get_tracer_provider()).__name__ == "ProxyTracerProvider"
        assert registered == [], registered
        assert tokentrail.export_stats() == tokentrail.ExportStats()
        print("clean")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "clean"


def test_export_stats_is_frozen() -> None:
    stats = tokentrail.export_stats()
    with pytest.raises(dataclasses.FrozenInstanceError):
        stats.exported = 5  # type: ignore[misc]
