"""Text vectors for topic drift, in numpy, with nothing to download, and k-means over them.

- `hashed_vectors`: character 3- to 5-grams within the words of the lower-cased text, each word
  padded with a space (as scikit-learn's `char_wb`; over UTF-8 bytes, so any script works),
  hashed into 2**18 buckets, of which the `max_columns` most frequent in all the texts are kept
  (as a vocabulary's most frequent terms); sublinear tf (1 + ln tf) times smooth idf, each text
  l2-normalised.
- `truncated_svd`: randomized SVD (Halko, Martinsson, Tropp 2011; fixed seed, power iterations),
  the text vectors projected on the top singular directions (latent semantic analysis).
- `kmeans`: k-means++ seeding and Lloyd's iterations, several seeded starts, the lowest inertia kept.
- `sentence_embeddings`: the plug-in point for a sentence-embedding model, used only when a
  request names one (`sentence-transformers:<model>`) and the package is importable; it is
  imported then, never before.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys
from collections.abc import Sequence
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from tokentrail_collector.models_drift import SENTENCE_TRANSFORMERS_PREFIX

NGRAM_SIZES: Final = (3, 4, 5)
BUCKETS: Final = 2**18
MAX_COLUMNS: Final = 2048
SEED: Final = 20_240_601

Matrix = npt.NDArray[np.float32]
_HASH_MULTIPLIER: Final = np.uint32(1_000_003)
_SPACE: Final = np.uint32(ord(" "))
_MIX_1: Final = np.uint32(0x85EBCA6B)
_MIX_2: Final = np.uint32(0xC2B2AE35)


_SENTENCE_TRANSFORMERS: Final = "sentence_transformers"
_MISSING_PACKAGE: Final = (
    "the sentence-transformers embedder needs the sentence-transformers package "
    "(pip install sentence-transformers); use embedder 'hashed' otherwise"
)


class EmbedderUnavailable(ValueError):
    """The requested sentence-embedding model cannot be used (package missing, model not loadable)."""


def normalise_text(text: str) -> str:
    return " " + " ".join(text.lower().split()) + " "


def _mix(h: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    # MurmurHash3's 32-bit finaliser, so that similar n-grams land far apart.
    h = h ^ (h >> np.uint32(16))
    h = h * _MIX_1
    h = h ^ (h >> np.uint32(13))
    h = h * _MIX_2
    return h ^ (h >> np.uint32(16))


def hashed_vectors(texts: Sequence[str], *, max_columns: int = MAX_COLUMNS) -> Matrix:
    """Hashed character n-gram tf-idf vectors of `texts` (at least one text), one row each, over
    the `max_columns` buckets most frequent in all the texts."""
    if not texts:
        raise ValueError("hashed_vectors needs at least one text")
    n_texts = len(texts)
    per_size = _ngram_buckets(texts)
    if not per_size:
        return np.zeros((n_texts, 1), dtype=np.float32)
    frequency = sum(np.bincount(buckets, minlength=BUCKETS) for _owners, buckets in per_size)
    used = np.nonzero(frequency)[0]
    kept = used[np.lexsort((used, -frequency[used]))[:max_columns]]  # ties by bucket: reproducible
    column_of = np.full(BUCKETS, -1, dtype=np.int64)
    column_of[kept] = np.arange(kept.size)

    # Counts per text and kept column, a block of texts at a time (owners are sorted), so that
    # counting is a bincount over a dense block rather than a sort of every n-gram.
    tf = np.zeros((n_texts, kept.size), dtype=np.float32)
    block = max(1, 4_000_000 // kept.size)
    starts = np.arange(0, n_texts, block)
    for owners, buckets in per_size:
        columns = column_of[buckets]
        inside = columns >= 0
        owners, columns = owners[inside], columns[inside]
        bounds = np.searchsorted(owners, np.append(starts, n_texts))
        for first, lo, hi in zip(starts.tolist(), bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            rows = min(block, n_texts - first)
            local = (owners[lo:hi] - first) * kept.size + columns[lo:hi]
            tf[first : first + rows] += np.bincount(local, minlength=rows * kept.size).reshape(
                rows, kept.size
            )
    # In place, the matrix being the largest thing here: tf -> (1 + ln tf) * idf, then l2 per row.
    present = tf > 0
    idf = (np.log((1.0 + n_texts) / (1.0 + np.count_nonzero(present, axis=0))) + 1.0).astype(np.float32)
    np.log(tf, out=tf, where=present)
    np.add(tf, np.float32(1.0), out=tf, where=present)
    tf *= idf
    norms = np.sqrt(np.einsum("ij,ij->i", tf, tf))
    tf /= np.where(norms > 0, norms, 1.0).astype(np.float32)[:, None]
    return tf


def _ngram_buckets(texts: Sequence[str]) -> list[tuple[npt.NDArray[np.int32], npt.NDArray[np.uint32]]]:
    """Per n-gram size: (text index, bucket) of every n-gram of every text, in text order.

    N-grams stay within a word and its surrounding spaces (" pas", "asta "), so that the words'
    pieces weigh, not the runs of function words between them. The hash of an n-gram extends
    its (n-1)-gram prefix's by one byte (32-bit multiply and xor, then MurmurHash3's finaliser),
    so all sizes cost one pass more than the smallest.
    """
    encoded = [normalise_text(text).encode() for text in texts]
    data = np.frombuffer(b"\x00".join(encoded), dtype=np.uint8).astype(np.uint32)
    lengths = np.array([len(chunk) for chunk in encoded], dtype=np.int64)
    # Bytes left in its text from each position on (0 at the separators between texts), and
    # the spaces before each position: an n-gram starts where n bytes are left and has no
    # space inside it.
    ends = np.cumsum(lengths + 1) - 1
    left = (np.repeat(ends, lengths + 1)[: data.size] - np.arange(data.size)).astype(np.int32)
    owner = np.repeat(np.arange(len(encoded), dtype=np.int32), lengths + 1)[: data.size]
    spaces = np.concatenate([[0], np.cumsum(data == _SPACE, dtype=np.int32)])
    found = []
    prefix = np.zeros(data.size, dtype=np.uint32)
    with np.errstate(over="ignore"):
        for n in range(1, max(NGRAM_SIZES) + 1):
            count = data.size - n + 1
            if count <= 0:
                break
            prefix = prefix[:count] * _HASH_MULTIPLIER ^ data[n - 1 : n - 1 + count]
            if n not in NGRAM_SIZES:
                continue
            inner_spaces = spaces[n - 1 : n - 1 + count] - spaces[1 : 1 + count]
            starts = (left[:count] >= n) & (inner_spaces == 0)
            if starts.any():
                buckets = _mix(prefix[starts] ^ np.uint32(n)) & np.uint32(BUCKETS - 1)
                found.append((owner[:count][starts], buckets))
    return found


def truncated_svd(
    matrix: Matrix, dimensions: int, *, seed: int = SEED, power_iterations: int = 2, oversample: int = 10
) -> Matrix:
    """Rows of `matrix` projected on its top `dimensions` right singular vectors (U * S)."""
    rows, columns = matrix.shape
    rank = max(1, min(dimensions, rows, columns))
    width = min(rank + oversample, rows, columns)
    x = matrix.astype(np.float32, copy=False)
    omega = np.random.default_rng(seed).standard_normal((columns, width)).astype(np.float32)
    q = _orthonormal(x @ omega)
    for _ in range(power_iterations):
        q = _orthonormal(x @ _orthonormal(x.T @ q))
    # B = Q^T X = U S V^T; U and S come from the small B B^T = U S^2 U^T (V is not needed).
    small = q.T @ x
    squares, u_small = np.linalg.eigh((small @ small.T).astype(np.float64))
    order = np.argsort(squares)[::-1][:rank]
    singular = np.sqrt(np.maximum(squares[order], 0.0))
    return ((q @ u_small[:, order].astype(np.float32)) * singular.astype(np.float32)).astype(np.float32)


def _orthonormal(a: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
    """An orthonormal basis of the columns of a tall matrix, from the eigen-decomposition of its
    small Gram matrix: much cheaper than a Householder QR, and as good for a range finder."""
    values, vectors = np.linalg.eigh((a.T @ a).astype(np.float64))
    keep = values > values.max(initial=0.0) * 1e-8
    if not keep.any():
        return np.zeros((a.shape[0], 1), dtype=np.float32)
    return ((a @ vectors[:, keep].astype(np.float32)) / np.sqrt(values[keep]).astype(np.float32)).astype(
        np.float32
    )


def l2_rows(vectors: npt.NDArray[np.floating]) -> Matrix:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def kmeans(
    vectors: Matrix, k: int, *, seed: int = SEED, starts: int = 3, max_iterations: int = 60
) -> tuple[npt.NDArray[np.int64], Matrix]:
    """Cluster labels (0..k'-1) and centroids; k' = min(k, distinct rows). Lloyd's iterations stop
    when at most 0.1% of the points change cluster."""
    points = vectors.astype(np.float32)
    everyone = np.arange(points.shape[0])
    k = max(1, min(k, np.unique(points.round(6), axis=0).shape[0]))
    best: tuple[float, npt.NDArray[np.int64], Matrix] | None = None
    for start in range(starts):
        centroids = _kmeans_plus_plus(points, k, np.random.default_rng(seed + start))
        labels = np.full(points.shape[0], -1, dtype=np.int64)
        for _ in range(max_iterations):
            distances = _squared_distances(points, centroids)
            moved = int(np.count_nonzero(distances.argmin(axis=1) != labels))
            labels = distances.argmin(axis=1)
            if moved <= points.shape[0] // 1000:
                break
            for cluster in range(k):
                members = labels == cluster
                if members.any():
                    centroids[cluster] = points[members].mean(axis=0)
                else:  # an empty cluster takes the point farthest from its centroid
                    centroids[cluster] = points[int(distances[everyone, labels].argmax())]
        inertia = float(_squared_distances(points, centroids)[everyone, labels].sum())
        if best is None or inertia < best[0] - 1e-6:
            best = (inertia, labels.copy(), centroids.copy())
    assert best is not None
    return _relabel(best[1], best[2])


def _relabel(labels: npt.NDArray[np.int64], centroids: Matrix) -> tuple[npt.NDArray[np.int64], Matrix]:
    """Clusters numbered by their first member, so equal partitions get equal numbers."""
    used: list[int] = []
    for label in labels.tolist():
        if label not in used:
            used.append(label)
    mapping = np.zeros(centroids.shape[0], dtype=np.int64)
    mapping[used] = np.arange(len(used))
    return mapping[labels], centroids[used]


def _squared_distances(points: Matrix, centroids: Matrix) -> Matrix:
    # One pass per centroid rather than a matrix product: for a few centroids the product is
    # tiny, and a multithreaded BLAS call costs more in a busy server than the arithmetic.
    distances = np.empty((points.shape[0], centroids.shape[0]), dtype=np.float32)
    for index, centroid in enumerate(centroids):
        difference = points - centroid
        distances[:, index] = np.einsum("ij,ij->i", difference, difference)
    return distances


def _kmeans_plus_plus(points: Matrix, k: int, rng: np.random.Generator) -> Matrix:
    centroids = np.empty((k, points.shape[1]), dtype=np.float32)
    centroids[0] = points[rng.integers(points.shape[0])]
    closest = _squared_distances(points, centroids[:1])[:, 0].astype(np.float64)
    for index in range(1, k):
        total = closest.sum()
        choice = (
            rng.choice(points.shape[0], p=closest / total) if total > 0 else rng.integers(points.shape[0])
        )
        centroids[index] = points[int(choice)]
        closest = np.minimum(closest, _squared_distances(points, centroids[index : index + 1])[:, 0])
    return centroids


def cosine_distance(a: npt.NDArray[np.floating], b: npt.NDArray[np.floating]) -> float | None:
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    if norm == 0:
        return None
    return float(max(0.0, 1.0 - float(np.dot(a, b)) / norm))


# --- sentence embeddings, only when asked for ---------------------------------------------------


class SentenceEncoder(Protocol):
    def encode(self, sentences: list[str], **options: object) -> object: ...


def check_embedder(embedder: str) -> None:
    """Raise EmbedderUnavailable early when `embedder` names a package that is not installed
    (found without importing it)."""
    if embedder.startswith(SENTENCE_TRANSFORMERS_PREFIX) and not _installed(_SENTENCE_TRANSFORMERS):
        raise EmbedderUnavailable(_MISSING_PACKAGE)


def _installed(module: str) -> bool:
    if module in sys.modules:
        return sys.modules[module] is not None
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


@functools.lru_cache(maxsize=4)
def _load_sentence_model(name: str) -> SentenceEncoder:
    try:
        module = importlib.import_module(_SENTENCE_TRANSFORMERS)
    except ImportError as exc:
        raise EmbedderUnavailable(_MISSING_PACKAGE) from exc
    try:
        return module.SentenceTransformer(name)
    except Exception as exc:
        raise EmbedderUnavailable(f"cannot load the sentence-transformers model {name!r}: {exc}") from exc


def sentence_embeddings(texts: Sequence[str], model: str) -> Matrix:
    """Unit vectors of `texts` from the sentence-transformers model `model`."""
    encoder = _load_sentence_model(model)
    vectors = np.asarray(
        encoder.encode(list(texts), normalize_embeddings=True, show_progress_bar=False), dtype=np.float32
    )
    if vectors.ndim != 2 or vectors.shape[0] != len(texts):
        raise EmbedderUnavailable(f"the model {model!r} returned vectors of shape {vectors.shape}")
    return l2_rows(vectors)
