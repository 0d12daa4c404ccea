"""Local token estimates, for streams whose provider reported no usage.

tiktoken is used only when it is importable and an encoding's file is already in its local cache
(looked up the way tiktoken looks it up); nothing is ever downloaded. Otherwise the estimate is
about four characters a token. Spans carrying an estimate are flagged `tokentrail.tokens_estimated`.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
import threading
from collections.abc import Callable

from tokentrail._internal import logger

CHARS_PER_TOKEN = 4
# Encodings tried in order, with the file tiktoken would download for each.
_ENCODINGS = (
    ("o200k_base", "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"),
    ("cl100k_base", "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"),
)

_counter: Callable[[str], int] | None = None
_resolved = False
_lock = threading.Lock()


def estimate_tokens(text: str) -> int:
    """Tokens in `text`: tiktoken's count if a cached encoding exists, else characters / 4."""
    if not text:
        return 0
    counter = _counter if _resolved else _resolve_counter()
    if counter is not None:
        return counter(text)
    return estimate_from_length(len(text))


def estimate_from_length(characters: int) -> int:
    return math.ceil(characters / CHARS_PER_TOKEN) if characters > 0 else 0


def _resolve_counter() -> Callable[[str], int] | None:
    global _counter, _resolved
    with _lock:
        if not _resolved:
            _counter = _cached_tiktoken()
            _resolved = True
    return _counter


def _cached_tiktoken() -> Callable[[str], int] | None:
    try:
        import tiktoken
    except ImportError:
        return None
    cache_dir = _tiktoken_cache_dir()
    if not cache_dir:
        return None  # caching switched off: tiktoken would download
    for name, blob in _ENCODINGS:
        if os.path.exists(os.path.join(cache_dir, hashlib.sha1(blob.encode()).hexdigest())):  # noqa: S324 - tiktoken's cache key
            try:
                encoding = tiktoken.get_encoding(name)
            except Exception as error:  # a damaged cache file: fall back, never fetch
                logger.debug("tokentrail: tiktoken encoding %s unusable: %r", name, error)
                continue
            return lambda text: len(encoding.encode(text, disallowed_special=()))
    return None


def _tiktoken_cache_dir() -> str:
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        return os.environ["TIKTOKEN_CACHE_DIR"]
    if "DATA_GYM_CACHE_DIR" in os.environ:
        return os.environ["DATA_GYM_CACHE_DIR"]
    return os.path.join(tempfile.gettempdir(), "data-gym-cache")
