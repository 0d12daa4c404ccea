"""`init(spool=..., spool_dir=..., spool_max_bytes=...)` and `TOKENTRAIL_SPOOL*`: whether spans that
cannot be delivered wait on disk, where, and how much of it they may take.

On by default. The default directory is per collector address and service, under the user's cache
directory (`$XDG_CACHE_HOME` or `~/.cache` on Linux, `~/Library/Caches` on macOS, `%LOCALAPPDATA%`
on Windows): `<cache>/tokentrail/spool/<16 hex digits>`, so the next run of the same service finds
what the last one left. As for every setting, a bad argument raises, a bad environment value is
logged and replaced by the default.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tokentrail._config import Settings, _env_bool
from tokentrail._internal import logger

ENV_SPOOL = "TOKENTRAIL_SPOOL"
ENV_SPOOL_DIR = "TOKENTRAIL_SPOOL_DIR"
ENV_SPOOL_MAX_BYTES = "TOKENTRAIL_SPOOL_MAX_BYTES"
DEFAULT_SPOOL_MAX_BYTES = 128 * 1024 * 1024
_OTEL_SERVICE_NAME = "OTEL_SERVICE_NAME"


@dataclass(frozen=True, slots=True)
class SpoolOptions:
    directory: Path
    max_bytes: int


def resolve_spool(
    environ: Mapping[str, str],
    settings: Settings,
    *,
    spool: bool | None,
    spool_dir: str | os.PathLike[str] | None,
    spool_max_bytes: int | None,
) -> SpoolOptions | None:
    """The spool to use, or None when it is turned off."""
    if spool is not None and not isinstance(spool, bool):
        raise TypeError(f"spool must be a bool, got {spool!r}")
    if spool_dir is not None and not isinstance(spool_dir, (str, os.PathLike)):
        raise TypeError(f"spool_dir must be a path, got {spool_dir!r}")
    if spool_max_bytes is not None and (
        isinstance(spool_max_bytes, bool) or not isinstance(spool_max_bytes, int) or spool_max_bytes <= 0
    ):
        raise ValueError(f"spool_max_bytes must be a positive int, got {spool_max_bytes!r}")
    if spool is None:
        spool = _env_bool(environ, ENV_SPOOL, True)
    if not spool:
        return None
    directory = Path(spool_dir) if spool_dir is not None else None
    if directory is None and environ.get(ENV_SPOOL_DIR, "").strip():
        directory = Path(environ[ENV_SPOOL_DIR].strip())
    if directory is None:
        directory = default_spool_dir(settings, environ)
    max_bytes = spool_max_bytes if spool_max_bytes is not None else _env_bytes(environ)
    return SpoolOptions(directory=directory.expanduser(), max_bytes=max_bytes)


def default_spool_dir(settings: Settings, environ: Mapping[str, str]) -> Path:
    service = settings.service_name or environ.get(_OTEL_SERVICE_NAME, "")
    identity = f"{settings.traces_url}\n{service}\n{settings.project or ''}".encode()
    return user_cache_dir(environ) / "tokentrail" / "spool" / hashlib.sha256(identity).hexdigest()[:16]


def user_cache_dir(environ: Mapping[str, str]) -> Path:
    if sys.platform == "win32":
        base = environ.get("LOCALAPPDATA")
        return Path(base) if base else Path.home() / "AppData" / "Local"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches"
    base = environ.get("XDG_CACHE_HOME", "").strip()
    return Path(base) if base and os.path.isabs(base) else Path.home() / ".cache"


def _env_bytes(environ: Mapping[str, str]) -> int:
    raw = environ.get(ENV_SPOOL_MAX_BYTES)
    if raw is None or not raw.strip():
        return DEFAULT_SPOOL_MAX_BYTES
    try:
        value = int(raw.strip())
    except ValueError:
        value = 0
    if value <= 0:
        logger.warning(
            "tokentrail: ignoring %s=%r (expected a number of bytes > 0); using %s",
            ENV_SPOOL_MAX_BYTES,
            raw,
            DEFAULT_SPOOL_MAX_BYTES,
        )
        return DEFAULT_SPOOL_MAX_BYTES
    return value
