"""Topic drift: cluster the sampled texts of both windows together and compare the clusters' shares.

Texts are the prompts' user messages (or the completions' assistant messages) read from the
stored message JSON. Both samples are put in a canonical order (by text, then span id), so the
clusters depend on which texts were sampled, not on the order they came in. The vectors are the
hashed n-gram vectors reduced by a truncated SVD (`topic_vectors`), or a sentence-embedding
model's when the request names one; k-means (fixed seed) over the union of both windows gives
the clusters, each reported with its share on each side, the cosine distance between its two
sides' centroids, a label, sample texts, and the trace and span ids of its current-window texts
(what a dataset of the cluster's examples is mined from). The label is the words that tell
the cluster apart: those whose share of the cluster's texts most exceeds their share of the other
texts' (words, not the hashed character n-grams, because a person reads it).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from tokentrail import semconv as sc
from tokentrail_collector.analysis import topic_vectors as tv
from tokentrail_collector.analysis.datasets import chat_transcript, decode_json, message_text
from tokentrail_collector.models_drift import (
    CLUSTER_IDS,
    EMBEDDER_HASHED,
    SENTENCE_TRANSFORMERS_PREFIX,
    TopicCluster,
    TopicSample,
)

SVD_DIMENSIONS: Final = 48
TEXTS_PER_CLUSTER_MIN: Final = 10  # k is lowered so that clusters hold about this many texts or more
LABEL_WORDS: Final = 5
_WORD: Final = re.compile(r"[^\W\d_]{3,}")  # letters only, three or more
SAMPLE_CHARS: Final = 300
VECTOR_CHARS: Final = 1000  # of each text, for the vectors

TextRole = Literal["prompt", "completion"]
_ROLES: Final[dict[TextRole, str]] = {"prompt": "user", "completion": "assistant"}


@dataclass(frozen=True, slots=True)
class SampledText:
    trace_id: str
    span_id: str
    stored: str  # input_text or output_text as stored


@dataclass(frozen=True)
class TopicComparison:
    baseline_counts: npt.NDArray[np.int64]  # per cluster
    current_counts: npt.NDArray[np.int64]
    clusters: list[TopicCluster]  # in cluster order
    centroid_distance: float | None
    dimensions: int
    embedder: str
    baseline_used: int  # texts with words, after extraction
    current_used: int
    members: dict[int, list[tuple[str, str, str]]]  # cluster -> current (trace, span, text), nearest first


def readable_text(stored: str, role: TextRole) -> str:
    """The words of a stored prompt or completion: the text of its user (assistant) messages, else
    of all its messages; the string leaves of other JSON; the text itself when it is not JSON."""
    messages = chat_transcript(stored)
    if messages is not None:
        wanted = [m for m in messages if m.get(sc.MESSAGE_ROLE) == _ROLES[role]] or messages
        return "\n".join(message_text(m) for m in wanted).strip()
    decoded = decode_json(stored)
    return stored if decoded is None else " ".join(_string_leaves(decoded)).strip()


def _string_leaves(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _string_leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _string_leaves(item)]
    return []


def compare_topics(
    baseline: Sequence[SampledText],
    current: Sequence[SampledText],
    *,
    role: TextRole,
    clusters: int,
    embedder: str = EMBEDDER_HASHED,
    samples_per_side: int = 2,
) -> TopicComparison:
    """Clusters of both samples' texts and how their shares moved from baseline to current."""
    sides = [_prepared(baseline, role), _prepared(current, role)]
    items = sides[0] + sides[1]
    side_of = np.array([0] * len(sides[0]) + [1] * len(sides[1]), dtype=np.int64)
    if not items:
        empty = np.zeros(0, dtype=np.int64)
        return TopicComparison(empty, empty, [], None, 0, embedder, 0, 0, {})
    texts = [text for _trace, _span, text in items]
    if embedder == EMBEDDER_HASHED:
        hashed = tv.hashed_vectors([text[:VECTOR_CHARS] for text in texts])
        vectors = tv.l2_rows(tv.truncated_svd(hashed, SVD_DIMENSIONS))
    else:
        vectors = tv.sentence_embeddings(texts, embedder.removeprefix(SENTENCE_TRANSFORMERS_PREFIX))
    k = max(1, min(clusters, len(items) // TEXTS_PER_CLUSTER_MIN))
    labels, centroids = tv.kmeans(vectors, k)
    k = centroids.shape[0]
    counts = np.zeros((2, k), dtype=np.int64)
    np.add.at(counts, (side_of, labels), 1)
    totals = np.maximum(counts.sum(axis=1), 1)
    words = [frozenset(_WORD.findall(text.lower())) for text in texts]

    reports = []
    members: dict[int, list[tuple[str, str, str]]] = {}
    for cluster in range(k):
        inside = labels == cluster
        nearest = np.nonzero(inside)[0][np.argsort(-(vectors[inside] @ centroids[cluster]), kind="stable")]
        members[cluster] = [items[i] for i in nearest if side_of[i] == 1]
        reports.append(
            TopicCluster(
                cluster=cluster,
                label=_label(words, inside),
                baseline_count=int(counts[0, cluster]),
                current_count=int(counts[1, cluster]),
                baseline_share=float(counts[0, cluster] / totals[0]),
                current_share=float(counts[1, cluster] / totals[1]),
                change=float(counts[1, cluster] / totals[1] - counts[0, cluster] / totals[0]),
                centroid_distance=_side_distance(vectors, inside & (side_of == 0), inside & (side_of == 1)),
                samples=_samples(items, side_of, nearest, samples_per_side),
                trace_ids=[trace_id for trace_id, _span, _text in members[cluster][:CLUSTER_IDS]],
                span_ids=[span_id for _trace, span_id, _text in members[cluster][:CLUSTER_IDS]],
            )
        )
    return TopicComparison(
        baseline_counts=counts[0],
        current_counts=counts[1],
        clusters=reports,
        centroid_distance=_side_distance(vectors, side_of == 0, side_of == 1),
        dimensions=int(vectors.shape[1]),
        embedder=embedder,
        baseline_used=len(sides[0]),
        current_used=len(sides[1]),
        members=members,
    )


def _prepared(sample: Sequence[SampledText], role: TextRole) -> list[tuple[str, str, str]]:
    """(trace id, span id, words) of the texts that have words, in canonical order."""
    prepared = [(item.trace_id, item.span_id, readable_text(item.stored, role).strip()) for item in sample]
    return sorted((entry for entry in prepared if entry[2]), key=lambda entry: (entry[2], entry[1]))


def _side_distance(
    vectors: tv.Matrix, first: npt.NDArray[np.bool_], second: npt.NDArray[np.bool_]
) -> float | None:
    if not first.any() or not second.any():
        return None
    return tv.cosine_distance(vectors[first].mean(axis=0), vectors[second].mean(axis=0))


def _label(words: list[frozenset[str]], inside: npt.NDArray[np.bool_]) -> list[str]:
    """The words whose share of this cluster's texts most exceeds their share of the others'."""
    members = [w for w, member in zip(words, inside.tolist(), strict=True) if member]
    others = [w for w, member in zip(words, inside.tolist(), strict=True) if not member]
    within = Counter(word for text in members for word in text)
    outside = Counter(word for text in others for word in text)
    score = {
        word: count / len(members) - (outside[word] / len(others) if others else 0.0)
        for word, count in within.items()
    }
    ranked = sorted((item for item in score.items() if item[1] > 0), key=lambda item: (-item[1], item[0]))
    return [word for word, _score in ranked[:LABEL_WORDS]]


def _samples(
    items: list[tuple[str, str, str]],
    side_of: npt.NDArray[np.int64],
    nearest: npt.NDArray[np.intp],
    per_side: int,
) -> list[TopicSample]:
    samples: list[TopicSample] = []
    for side, name in ((1, "current"), (0, "baseline")):
        chosen = [i for i in nearest if side_of[i] == side][:per_side]
        samples += [
            TopicSample(trace_id=items[i][0], span_id=items[i][1], side=name, text=items[i][2][:SAMPLE_CHARS])
            for i in chosen
        ]
    return samples
