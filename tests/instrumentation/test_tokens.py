"""Local token estimates: tiktoken only when importable and its encoding file is already cached."""

from __future__ import annotations

import hashlib
import sys
import types
from pathlib import Path

import pytest

from tokentrail.instrumentation import _tokens


@pytest.fixture(autouse=True)
def unresolved(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_tokens, "_resolved", False)
    monkeypatch.setattr(_tokens, "_counter", None)


def fake_tiktoken(monkeypatch: pytest.MonkeyPatch, asked: list[str]) -> None:
    module = types.ModuleType("tiktoken")

    class Encoding:
        def encode(self, text: str, disallowed_special: object = ()) -> list[str]:
            return text.split()

    def get_encoding(name: str) -> Encoding:
        asked.append(name)
        return Encoding()

    module.get_encoding = get_encoding  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tiktoken", module)


def test_without_tiktoken_four_characters_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tiktoken", None)  # import fails
    assert _tokens.estimate_tokens("") == 0
    assert _tokens.estimate_tokens("abcd") == 1
    assert _tokens.estimate_tokens("abcdefghi") == 3


def test_tiktoken_without_a_cached_encoding_is_not_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    asked: list[str] = []
    fake_tiktoken(monkeypatch, asked)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    assert _tokens.estimate_tokens("one two three four five six seven eight") == 10  # 39 chars / 4
    assert asked == []  # never asked for an encoding, so never downloaded one


def test_tiktoken_with_a_cached_encoding_counts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    asked: list[str] = []
    fake_tiktoken(monkeypatch, asked)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    blob = dict(_tokens._ENCODINGS)["cl100k_base"]
    (tmp_path / hashlib.sha1(blob.encode()).hexdigest()).write_bytes(b"cached")  # noqa: S324
    assert _tokens.estimate_tokens("one two three") == 3
    assert asked == ["cl100k_base"]


def test_caching_switched_off_means_no_tiktoken(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    fake_tiktoken(monkeypatch, asked)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")
    assert _tokens.estimate_tokens("abcdefgh") == 2
    assert asked == []
