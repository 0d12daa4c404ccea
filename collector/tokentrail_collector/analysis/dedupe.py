"""Near-duplicate removal for dataset items: exact duplicates by hash, then MinHash with LSH banding.

The method, as the API documents it and each mined dataset's metadata records it:

1. Normalise the text: Unicode NFKC, case-folded, every run of non-alphanumeric characters
   turned into one space, trimmed.
2. Exact duplicates: equal normalised texts (BLAKE2b hash); the earliest item is kept.
3. Near duplicates: the set of 5-byte shingles of the normalised UTF-8 text (a text shorter than
   that is one shingle). Two items are near duplicates when the Jaccard similarity of their
   shingle sets is at least the threshold (default 0.8: changing a word or two of a
   200-character prompt stays above it, different questions in the same template fall below
   0.5; a one-word change in a very short prompt can reach it too). Candidates come from MinHash signatures (120 multiply-shift hash functions) split
   into LSH bands, with the band width chosen so that a pair at the threshold is a candidate
   with probability >= 0.99. Candidates whose signatures agree on a share of the hashes no
   more than 3.5 standard errors below the threshold (a pair at the threshold falls below that
   about once in 4,000) are checked with the exact Jaccard
   similarity, so nothing below the threshold is ever removed.
4. Items are visited in order (the caller's order, oldest first for mined spans); an item is
   removed when it is a near duplicate of an item already kept, so chains never collapse
   items that are not themselves similar to a kept one.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

METHOD = "minhash-lsh"
SHINGLE_BYTES = 5
PERMUTATIONS = 120
DEFAULT_THRESHOLD = 0.8
MIN_THRESHOLD = 0.5
CANDIDATE_RECALL = 0.99  # chance that a pair exactly at the threshold becomes a candidate
_SEED = 0x7A11  # fixed: the same texts give the same signatures in every process
_CHUNK = 16_384  # shingles hashed at a time (16 MB of hashes), bounding memory
_ESTIMATE_ERRORS = 3.5  # standard errors of the MinHash estimate a candidate may fall below the threshold

_NON_ALPHANUMERIC = re.compile(r"[\W_]+", re.UNICODE)

Shingles = npt.NDArray[np.uint64]


def normalise(text: str) -> str:
    """Case-folded NFKC text with punctuation and whitespace runs turned into single spaces."""
    return _NON_ALPHANUMERIC.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def shingles(normalised: str) -> Shingles:
    """The distinct 5-byte shingles of a normalised text, each as an integer (sorted)."""
    data = np.frombuffer(normalised.encode(), dtype=np.uint8).astype(np.uint64)
    if data.size < SHINGLE_BYTES:
        value = np.uint64(0)
        for byte in data:
            value = (value << np.uint64(8)) | byte
        # A marker bit keeps a short text's one shingle apart from any full 5-byte shingle.
        return np.array([value | np.uint64(1 << 48)], dtype=np.uint64)
    windows = np.zeros(data.size - SHINGLE_BYTES + 1, dtype=np.uint64)
    for offset in range(SHINGLE_BYTES):
        windows = (windows << np.uint64(8)) | data[offset : offset + windows.size]
    return np.unique(windows)


def jaccard(a: Shingles, b: Shingles) -> float:
    """|a ∩ b| / |a ∪ b| of two sorted shingle sets."""
    common = np.intersect1d(a, b, assume_unique=True).size
    return common / (a.size + b.size - common)


@dataclass(frozen=True)
class DedupeMethod:
    """How near duplicates are found; `describe()` is what dataset metadata records."""

    threshold: float = DEFAULT_THRESHOLD

    def __post_init__(self) -> None:
        if not MIN_THRESHOLD <= self.threshold <= 1.0:
            raise ValueError(f"the near-duplicate threshold must be within {MIN_THRESHOLD}..1.0")

    @property
    def rows_per_band(self) -> int:
        """The widest band (fewest false candidates) that still finds a pair at the threshold."""
        best = 1
        for rows in range(1, PERMUTATIONS + 1):
            if PERMUTATIONS % rows:
                continue
            bands = PERMUTATIONS // rows
            if 1 - (1 - self.threshold**rows) ** bands >= CANDIDATE_RECALL:
                best = rows
        return best

    @property
    def estimate_floor(self) -> float:
        """The least MinHash estimate of a candidate worth the exact check."""
        error = math.sqrt(self.threshold * (1 - self.threshold) / PERMUTATIONS)
        return self.threshold - max(_ESTIMATE_ERRORS * error, 0.02)

    def describe(self) -> dict[str, object]:
        rows = self.rows_per_band
        return {
            "method": METHOD,
            "normalisation": "NFKC, case-folded, non-alphanumeric runs as one space",
            "exact": "BLAKE2b of the normalised text",
            "shingles": f"{SHINGLE_BYTES}-byte shingles of the normalised UTF-8 text",
            "similarity": "Jaccard of shingle sets, computed exactly for LSH candidates",
            "candidates": "pairs sharing an LSH band whose MinHash estimate is within 3.5 standard errors "
            f"below the threshold (>= {self.estimate_floor:.3f})",
            "threshold": self.threshold,
            "permutations": PERMUTATIONS,
            "bands": PERMUTATIONS // rows,
            "rows_per_band": rows,
        }


@dataclass
class DedupeResult:
    kept: list[int] = field(default_factory=list)
    """Indices of the texts kept, in input order."""
    exact: dict[int, int] = field(default_factory=dict)
    """Removed index -> the kept index it repeats exactly (after normalisation)."""
    near: dict[int, tuple[int, float]] = field(default_factory=dict)
    """Removed index -> (the kept index it nearly repeats, their Jaccard similarity)."""


Signatures = npt.NDArray[np.uint32]  # one row of PERMUTATIONS minima (32-bit hashes) per text


class _MinHasher:
    def __init__(self) -> None:
        rng = np.random.default_rng(_SEED)
        # Multiply-shift hashing (Dietzfelbinger): odd multipliers, the top 32 bits of a*x + b.
        self._a = rng.integers(1, 2**63, size=PERMUTATIONS, dtype=np.uint64) | np.uint64(1)
        self._b = rng.integers(0, 2**63, size=PERMUTATIONS, dtype=np.uint64)

    def _hashed(self, values: Shingles) -> npt.NDArray[np.uint32]:
        hashed = (values[:, None] * self._a + self._b) >> np.uint64(32)  # wraps modulo 2**64, as intended
        return hashed.astype(np.uint32)

    def signatures(self, sets: Sequence[Shingles]) -> Signatures:
        """The signatures of many shingle sets, hashed a chunk of sets at a time (one numpy pass
        per chunk rather than one per text); a set larger than a chunk is hashed in pieces."""
        result = np.empty((len(sets), PERMUTATIONS), dtype=np.uint32)
        start = 0
        while start < len(sets):
            if sets[start].size > _CHUNK:
                result[start] = self._hashed(sets[start][:_CHUNK]).min(axis=0)
                for offset in range(_CHUNK, sets[start].size, _CHUNK):
                    piece = self._hashed(sets[start][offset : offset + _CHUNK]).min(axis=0)
                    np.minimum(result[start], piece, out=result[start])
                start += 1
                continue
            end, total = start, 0
            while end < len(sets) and total + sets[end].size <= _CHUNK:
                total += sets[end].size
                end += 1
            sizes = np.fromiter((sets[k].size for k in range(start, end)), dtype=np.intp, count=end - start)
            offsets = np.concatenate(([0], np.cumsum(sizes)[:-1]))
            result[start:end] = np.minimum.reduceat(
                self._hashed(np.concatenate(sets[start:end])), offsets, axis=0
            )
            start = end
        return result


def deduplicate(texts: Sequence[str], method: DedupeMethod | None = None) -> DedupeResult:
    """Which of `texts` to keep: exact duplicates, then near duplicates, removed (see the module doc)."""
    method = method or DedupeMethod()
    result = DedupeResult()
    by_hash: dict[bytes, int] = {}
    unique: list[int] = []
    sets: list[Shingles] = []
    for index, text in enumerate(texts):
        normalised = normalise(text)
        digest = hashlib.blake2b(normalised.encode(), digest_size=16).digest()
        original = by_hash.get(digest)
        if original is not None:
            result.exact[index] = original
            continue
        by_hash[digest] = index
        unique.append(index)
        sets.append(shingles(normalised))
    signatures = _MinHasher().signatures(sets)
    kept = _KeptItems(method)
    band_keys = kept.band_keys(signatures)
    for position, index in enumerate(unique):
        match = kept.best_match(sets[position], signatures[position], band_keys[position])
        if match is not None:
            result.near[index] = match
        else:
            result.kept.append(index)
            kept.add(index, sets[position], signatures[position], band_keys[position])
    # A repeat of a text that turned out to be a near duplicate is a near duplicate too.
    for index, original in list(result.exact.items()):
        if original in result.near:
            result.near[index] = result.near[original]
            del result.exact[index]
    return result


class _KeptItems:
    """The items kept so far: their shingles, their signatures as rows of one matrix (so that a
    candidate set's signatures are one fancy-indexing read) and their LSH band keys."""

    def __init__(self, method: DedupeMethod) -> None:
        self._rows = method.rows_per_band
        self._threshold = method.threshold
        self._estimate_floor = method.estimate_floor
        self._buckets: dict[int, list[int]] = {}
        self._indices: list[int] = []  # row -> the item's index in the input
        self._shingles: list[Shingles] = []
        # The estimate compares the top 16 bits of each minimum: a chance agreement (1 in 65,536)
        # changes nothing that matters, and the candidates' rows are read twice as fast.
        self._signatures = np.empty((64, PERMUTATIONS), dtype=np.uint16)

    def band_keys(self, signatures: Signatures) -> list[list[int]]:
        """Per text, one integer per band: a 64-bit hash of the band's values and of its number
        (two texts share a key when a band agrees; a hash collision only adds a candidate)."""
        bands = PERMUTATIONS // self._rows
        rng = np.random.default_rng(_SEED + 1)
        mix = rng.integers(1, 2**63, size=(bands, self._rows), dtype=np.uint64) | np.uint64(1)
        salt = rng.integers(0, 2**63, size=bands, dtype=np.uint64)
        shaped = signatures.reshape(len(signatures), bands, self._rows)
        keys: list[list[int]] = (
            (shaped.astype(np.uint64) * mix).sum(axis=2, dtype=np.uint64) ^ salt
        ).tolist()
        return keys

    def add(self, index: int, values: Shingles, signature: Signatures, keys: list[int]) -> None:
        row = len(self._indices)
        if row == len(self._signatures):
            self._signatures = np.concatenate([self._signatures, np.empty_like(self._signatures)])
        self._signatures[row] = signature >> 16
        self._indices.append(index)
        self._shingles.append(values)
        for key in keys:
            self._buckets.setdefault(key, []).append(row)

    def best_match(
        self, values: Shingles, signature: Signatures, keys: list[int]
    ) -> tuple[int, float] | None:
        """The kept item most similar to this one at or above the threshold, if any."""
        found = set().union(*(self._buckets.get(key, ()) for key in keys))
        if not found:
            return None
        candidates = np.fromiter(found, dtype=np.intp, count=len(found))
        # The signatures' agreement estimates the similarity: only candidates estimated near or
        # above the threshold get the exact check.
        estimates = (self._signatures[candidates] == (signature >> 16)).mean(axis=1)
        best: tuple[int, float] | None = None
        for row in np.sort(candidates[estimates >= self._estimate_floor]):
            similarity = jaccard(values, self._shingles[row])
            # A hair of tolerance so that a pair exactly at the threshold is not lost to rounding.
            if similarity >= self._threshold - 1e-12 and (best is None or similarity > best[1]):
                best = (self._indices[row], similarity)
        return None if best is None else (best[0], math.floor(best[1] * 1e6) / 1e6)
