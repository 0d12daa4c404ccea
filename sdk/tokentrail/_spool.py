"""The on-disk buffer: encoded OTLP request bodies that wait in a directory for the collector,
across restarts of the application, and are sent again oldest first.

One file per batch, exactly the bytes of the request (gzip-compressed protobuf). A file is
written under a temporary name, synced, renamed, and the directory synced, so a crash never leaves
a partial file under a name that gets replayed. Names start with the wall-clock time, so sorting
them is replaying oldest first, whichever process wrote them. Processes sharing the directory
claim a file by renaming it (atomic: one rename wins), so no file is sent twice; a claim left by a
process that died is taken back after `CLAIM_STALE_S`. Files are deleted only once the collector
took them (or refused their content for good). The directory is bounded by `max_bytes`.
"""

from __future__ import annotations

import gzip
import itertools
import os
import re
import secrets
import threading
import time
import zlib
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

SUFFIX = ".otlp"
CLAIM_MARK = ".claim-"
TEMP_PREFIX = ".tmp-"
# A claim lasts one request (seconds); one this old was left by a process that died.
CLAIM_STALE_S = 300.0
# No batch is this large (the collector's own body limit is far lower): a bigger file is not ours.
MAX_FILE_BYTES = 256 * 1024 * 1024
# How long the byte count of the directory is trusted before it is taken again (other processes write too).
_USAGE_TTL_S = 5.0

_PENDING = re.compile(r"\d{20}-\d+-\d{8}" + re.escape(SUFFIX))
_CLAIMED = re.compile(
    r"(?P<name>\d{20}-\d+-\d{8}" + re.escape(SUFFIX) + ")" + re.escape(CLAIM_MARK) + r"[0-9a-f-]+"
)


class SpoolFileCorrupt(Exception):
    """A spool file that cannot be what this module wrote (truncated, not gzip, not OTLP)."""


@dataclass(frozen=True, slots=True)
class ClaimedFile:
    name: str
    """The file's name while it waits (restored if it goes back)."""
    path: Path
    """Where it lies while this process holds it."""


class Spool:
    """A bounded spool directory; thread-safe, and safe to share between processes."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._sequence = itertools.count()
        self._candidates: deque[str] = deque()
        self._usage_bytes = 0
        self._usage_taken_at = float("-inf")

    # -- writing ---------------------------------------------------------------------------------

    def write(self, body: bytes) -> bool:
        """Keep `body` as the newest file; False when that would pass `max_bytes`. OSError if the disk fails."""
        with self._lock:
            if self._usage(refresh=False) + len(body) > self.max_bytes and (
                self._usage(refresh=True) + len(body) > self.max_bytes
            ):
                return False
            self._usage_bytes += len(body)
        try:
            self._write_atomically(body)
        except BaseException:
            with self._lock:
                self._usage_bytes -= len(body)
            raise
        return True

    def _write_atomically(self, body: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = f"{time.time_ns():020d}-{os.getpid()}-{next(self._sequence) % 100_000_000:08d}{SUFFIX}"
        temporary = self.directory / f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        descriptor = os.open(
            temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600
        )
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(body)
                file.flush()
                os.fsync(file.fileno())
            os.rename(temporary, self.directory / name)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        self._sync_directory()

    def _sync_directory(self) -> None:
        """Make the rename itself durable (POSIX; a no-op where directories cannot be opened)."""
        try:
            descriptor = os.open(self.directory, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(descriptor)
        except OSError:
            pass
        finally:
            os.close(descriptor)

    # -- replaying -------------------------------------------------------------------------------

    def claim_next(self) -> ClaimedFile | None:
        """Take the oldest waiting file for this process, or None when none is left to take."""
        with self._lock:
            for _ in range(2):  # the names known so far, then one fresh look at the directory
                while self._candidates:
                    name = self._candidates.popleft()
                    claimed = self._claim(name)
                    if claimed is not None:
                        return claimed
                self._rescan()
                if not self._candidates:
                    return None
        return None

    def _claim(self, name: str) -> ClaimedFile | None:
        path = self.directory / name
        target = self.directory / f"{name}{CLAIM_MARK}{os.getpid()}-{secrets.token_hex(4)}"
        try:
            # Fresh time first: the claim's age is what tells others it is alive.
            os.utime(path)
            os.rename(path, target)
        except FileNotFoundError:
            return None  # another process took it
        return ClaimedFile(name=name, path=target)

    def read(self, claimed: ClaimedFile) -> tuple[bytes, int]:
        """The file's body and the number of spans in it; SpoolFileCorrupt if it is not a whole batch."""
        try:
            size = claimed.path.stat().st_size
            if size > MAX_FILE_BYTES:
                raise SpoolFileCorrupt(f"{claimed.name}: {size} bytes, larger than any batch")
            body = claimed.path.read_bytes()
            request = ExportTraceServiceRequest.FromString(gzip.decompress(body))
        except (OSError, EOFError, zlib.error, DecodeError) as error:
            raise SpoolFileCorrupt(f"{claimed.name}: {type(error).__name__}: {error}") from error
        spans = sum(len(scope.spans) for resource in request.resource_spans for scope in resource.scope_spans)
        if spans == 0:  # never written here: bytes that happen to parse are not a batch
            raise SpoolFileCorrupt(f"{claimed.name}: no spans in it")
        return body, spans

    def delete(self, claimed: ClaimedFile) -> None:
        try:
            size = claimed.path.stat().st_size
            claimed.path.unlink()
        except FileNotFoundError:
            return
        with self._lock:
            self._usage_bytes = max(self._usage_bytes - size, 0)

    def release(self, claimed: ClaimedFile) -> None:
        """Give the file back (not delivered): it waits again, first in line."""
        try:
            os.rename(claimed.path, self.directory / claimed.name)
        except FileNotFoundError:
            return
        with self._lock:
            self._candidates.appendleft(claimed.name)

    # -- looking at the directory ----------------------------------------------------------------

    def pending_files(self) -> list[str]:
        """Names of the files waiting (not claimed), oldest first."""
        return sorted(entry.name for entry in self._entries() if _PENDING.fullmatch(entry.name))

    def usage_bytes(self) -> int:
        with self._lock:
            return self._usage(refresh=True)

    def _usage(self, *, refresh: bool) -> int:
        if refresh or time.monotonic() - self._usage_taken_at > _USAGE_TTL_S:
            total = 0
            for entry in self._entries():
                if _PENDING.fullmatch(entry.name) or _CLAIMED.fullmatch(entry.name):
                    total += _size(entry)
            self._usage_bytes = total
            self._usage_taken_at = time.monotonic()
        return self._usage_bytes

    def _rescan(self) -> None:
        """Refill the candidates, oldest first; take back stale claims, remove stale temporary files."""
        now = time.time()
        names = []
        for entry in self._entries():
            name = entry.name
            if _PENDING.fullmatch(name):
                names.append(name)
            elif (claimed := _CLAIMED.fullmatch(name)) is not None:
                if now - _mtime(entry, now) > CLAIM_STALE_S:
                    try:
                        os.rename(entry.path, self.directory / claimed["name"])
                        names.append(claimed["name"])
                    except FileNotFoundError:
                        pass
            elif name.startswith(TEMP_PREFIX) and now - _mtime(entry, now) > CLAIM_STALE_S:
                Path(entry.path).unlink(missing_ok=True)
        self._candidates = deque(sorted(names))

    def _entries(self) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(self.directory) as entries:
                return list(entries)
        except FileNotFoundError:
            return []


def _size(entry: os.DirEntry[str]) -> int:
    try:
        return entry.stat().st_size
    except FileNotFoundError:
        return 0


def _mtime(entry: os.DirEntry[str], default: float) -> float:
    try:
        return entry.stat().st_mtime
    except FileNotFoundError:
        return default
