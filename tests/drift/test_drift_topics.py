"""Topic vectors and clusters: no download, reproducible, and a new topic shows as a grown cluster."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokentrail_collector.analysis import topic_vectors as tv
from tokentrail_collector.analysis import topics
from tokentrail_collector.analysis.topics import SampledText, compare_topics, readable_text

SUPPORT = [
    "How do I reset my password for the account",
    "Where can I download the invoice for last month",
    "My refund has not arrived after two weeks",
    "Can I change the billing email on my plan",
    "Why was my card charged twice this month",
]
COOKING = [
    "What is the best way to roast garlic in the oven",
    "How long should fresh pasta boil before serving",
    "Give me a quick recipe for tomato and basil sauce",
    "Can I freeze homemade bread dough overnight",
    "Which spices go well with roasted pumpkin soup",
]


def messages(system: str, user: str) -> str:
    return json.dumps(
        [
            {"role": "system", "parts": [{"type": "text", "content": system}]},
            {"role": "user", "parts": [{"type": "text", "content": user}]},
        ],
        separators=(",", ":"),
    )


def sample(texts: list[str], prefix: str) -> list[SampledText]:
    return [
        SampledText(trace_id=f"{prefix}{i:031x}", span_id=f"{i:016x}", stored=messages("Be brief.", text))
        for i, text in enumerate(texts)
    ]


def varied(templates: list[str], count: int, offset: int = 0) -> list[str]:
    return [f"{templates[i % len(templates)]} (ticket {1000 + 7 * i + offset})" for i in range(count)]


def test_readable_text_takes_the_user_or_assistant_words() -> None:
    stored = messages("You are a support bot.", "Reset my password")
    assert readable_text(stored, "prompt") == "Reset my password"
    answer = json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "Done."}]}])
    assert readable_text(answer, "completion") == "Done."
    assert readable_text("plain text", "prompt") == "plain text"
    assert readable_text('{"question": "why", "n": 3}', "prompt") == "why"
    assert readable_text("[not json", "prompt") == "[not json"


def test_hashed_vectors_are_unit_rows_and_similar_texts_are_closer() -> None:
    matrix = tv.hashed_vectors(["reset my password", "reset my password please", "roast garlic in the oven"])
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)
    similar = float(matrix[0] @ matrix[1])
    different = float(matrix[0] @ matrix[2])
    assert similar > different


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=60), min_size=1, max_size=12))
def test_hashed_vectors_take_any_text(texts: list[str]) -> None:
    matrix = tv.hashed_vectors(texts)
    assert matrix.shape[0] == len(texts)
    assert np.isfinite(matrix).all()


def test_truncated_svd_recovers_a_low_rank_matrix() -> None:
    rng = np.random.default_rng(1)
    low_rank = (rng.standard_normal((60, 3)) @ rng.standard_normal((3, 40))).astype(np.float32)
    reduced = tv.truncated_svd(low_rank, 3)
    # U S keeps the Gram matrix of the rows: the rows' dot products are unchanged
    assert np.allclose(reduced @ reduced.T, low_rank @ low_rank.T, atol=1e-2)


def test_kmeans_finds_separated_groups_and_is_reproducible() -> None:
    rng = np.random.default_rng(3)
    centres = np.array([[5, 0], [0, 5], [-5, -5]], dtype=np.float32)
    points = np.concatenate([centre + rng.normal(0, 0.3, (30, 2)) for centre in centres]).astype(np.float32)
    labels, centroids = tv.kmeans(points, 3)
    assert sorted(np.bincount(labels).tolist()) == [30, 30, 30]
    assert all(len(set(labels[i * 30 : (i + 1) * 30].tolist())) == 1 for i in range(3))
    again, _ = tv.kmeans(points, 3)
    assert np.array_equal(labels, again)
    assert centroids.shape == (3, 2)


def test_kmeans_with_fewer_distinct_points_than_clusters() -> None:
    points = np.ones((10, 4), dtype=np.float32)
    labels, centroids = tv.kmeans(points, 5)
    assert set(labels.tolist()) == {0} and centroids.shape[0] == 1


def test_a_new_topic_is_a_cluster_that_only_the_current_side_has() -> None:
    baseline = sample(varied(SUPPORT, 60), "a")
    current = sample(varied(SUPPORT, 30, 3) + varied(COOKING, 30), "b")
    comparison = compare_topics(baseline, current, role="prompt", clusters=10)  # one per template
    new = [c for c in comparison.clusters if c.baseline_count == 0 and c.current_count > 0]
    assert sum(c.current_count for c in new) == 30
    for cluster in new:
        assert all(s.side == "current" and any(t in s.text for t in COOKING) for s in cluster.samples)
        assert cluster.change > 0 and cluster.label
        listed = list(zip(cluster.trace_ids, cluster.span_ids, strict=True))
        assert len(listed) == cluster.current_count, "every current span of the cluster, in step"
        assert set(listed) <= {(item.trace_id, item.span_id) for item in current}
    cooking_words = {w.lower() for text in COOKING for w in text.split()}
    assert any(word in cooking_words for cluster in new for word in cluster.label)
    assert comparison.baseline_used == 60 and comparison.current_used == 60


def test_a_cluster_lists_at_most_the_cap_of_its_span_ids_nearest_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    baseline = sample(varied(SUPPORT, 40), "a")
    current = sample(varied(COOKING, 40), "b")
    full = compare_topics(baseline, current, role="prompt", clusters=4)
    monkeypatch.setattr(topics, "CLUSTER_IDS", 3)
    capped = compare_topics(baseline, current, role="prompt", clusters=4)
    for whole, cut in zip(full.clusters, capped.clusters, strict=True):
        assert cut.span_ids == whole.span_ids[:3] and cut.trace_ids == whole.trace_ids[:3]
        assert cut.current_count == whole.current_count
    assert sum(len(c.span_ids) for c in full.clusters) == 40
    assert all(not c.span_ids for c in full.clusters if c.current_count == 0)


def test_same_texts_in_another_order_give_the_same_clusters() -> None:
    baseline = sample(varied(SUPPORT, 40), "a")
    current = sample(varied(SUPPORT, 40, 1), "b")
    first = compare_topics(baseline, current, role="prompt", clusters=4)
    second = compare_topics(baseline[::-1], current[::-1], role="prompt", clusters=4)
    assert first.baseline_counts.tolist() == second.baseline_counts.tolist()
    assert first.current_counts.tolist() == second.current_counts.tolist()
    assert [c.label for c in first.clusters] == [c.label for c in second.clusters]


def test_no_texts_and_texts_without_words() -> None:
    empty = compare_topics([], [], role="prompt", clusters=4)
    assert empty.clusters == [] and empty.baseline_used == 0
    blank = compare_topics(sample(["   "], "a"), [], role="prompt", clusters=4)
    assert blank.baseline_used == 0


class FakeSentenceTransformer:
    """Stands in for sentence_transformers.SentenceTransformer: a vector per text from its topic."""

    loaded: list[str] = []

    def __init__(self, name: str) -> None:
        self.loaded.append(name)

    def encode(self, sentences: list[str], **options: object) -> np.ndarray:
        assert options.get("normalize_embeddings") is True
        return np.array([[1.0, 0.0] if any(t in s for t in COOKING) else [0.0, 1.0] for s in sentences])


def test_a_sentence_embedding_model_is_used_only_when_named(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("sentence_transformers")
    fake.SentenceTransformer = FakeSentenceTransformer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentence_transformers", fake)
    tv._load_sentence_model.cache_clear()
    baseline, current = sample(varied(SUPPORT, 30), "a"), sample(varied(COOKING, 30), "b")

    compare_topics(baseline, current, role="prompt", clusters=2)
    assert FakeSentenceTransformer.loaded == [], "the hashed default never loads a model"

    comparison = compare_topics(
        baseline, current, role="prompt", clusters=2, embedder="sentence-transformers:tiny-model"
    )
    assert FakeSentenceTransformer.loaded == ["tiny-model"]
    assert comparison.embedder == "sentence-transformers:tiny-model" and comparison.dimensions == 2
    assert sorted((c.baseline_count, c.current_count) for c in comparison.clusters) == [(0, 30), (30, 0)]
    tv._load_sentence_model.cache_clear()


def test_a_missing_sentence_transformers_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # import fails
    tv._load_sentence_model.cache_clear()
    with pytest.raises(tv.EmbedderUnavailable, match="pip install sentence-transformers"):
        compare_topics(
            sample(SUPPORT, "a"),
            sample(COOKING, "b"),
            role="prompt",
            clusters=2,
            embedder="sentence-transformers:x",
        )
    tv._load_sentence_model.cache_clear()


def test_a_missing_package_is_found_before_any_work(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(tv.EmbedderUnavailable):
        tv.check_embedder("sentence-transformers:x")
    tv.check_embedder("hashed")
    monkeypatch.setitem(sys.modules, "sentence_transformers", types.ModuleType("sentence_transformers"))
    tv.check_embedder("sentence-transformers:x")


def test_the_hashed_default_imports_no_model_library() -> None:
    """Topics by default never import torch or sentence_transformers (checked in a fresh interpreter)."""
    code = (
        "import sys\n"
        "from tokentrail_collector.app import create_app\n"
        "from tokentrail_collector.analysis.topics import SampledText, compare_topics\n"
        "texts = [SampledText(str(i), str(i), f'question number {i} about refunds') for i in range(40)]\n"
        "compare_topics(texts[:20], texts[20:], role='prompt', clusters=4)\n"
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
