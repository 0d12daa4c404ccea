"""Near-duplicate removal as the API documents it: exact duplicates after normalisation, then
Jaccard >= threshold of 5-byte shingles, found with MinHash/LSH and decided exactly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokentrail_collector.analysis.dedupe import (
    CANDIDATE_RECALL,
    DEFAULT_THRESHOLD,
    PERMUTATIONS,
    DedupeMethod,
    deduplicate,
    jaccard,
    normalise,
    shingles,
)

# Distinct requests in one template, as a support app's prompts are: they share much wording.
DISTINCT = [
    "My order 4411 arrived yesterday but the blue kettle inside was cracked along the handle. "
    "Can I get a replacement shipped to the same address, or do I need to send the broken one back first?",
    "My order 5512 arrived today but the green toaster inside was missing its crumb tray. "
    "Can I get the missing part shipped to my address, or do I need to return the whole toaster?",
    "I was charged twice for my March invoice on the business plan. Please refund the duplicate "
    "payment to the card ending 4242 and confirm by email when it is done.",
    "How do I change the email address on my account? I no longer have access to the old mailbox "
    "and the password reset link keeps going there.",
    "Our API key stopped working this morning with a 401 error, although nobody rotated it. "
    "Did something change on your side, and how do we get service back quickly?",
    "Can you export all of last year's invoices as one PDF? Our accountant needs them for the annual "
    "audit by Friday and the dashboard only lets me download one at a time.",
]


def variant(text: str, *replacements: tuple[str, str]) -> str:
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new, 1)
    return text


# A word or two changed: near duplicates of the texts they come from.
PLANTED = {
    variant(DISTINCT[0], ("blue", "red")): 0,
    variant(DISTINCT[0], ("yesterday", "today"), ("kettle", "teapot")): 0,
    variant(DISTINCT[2], ("March", "April")): 2,
    variant(DISTINCT[4], ("this morning", "last night")): 4,
}


def similarity(a: str, b: str) -> float:
    return jaccard(shingles(normalise(a)), shingles(normalise(b)))


def test_planted_near_duplicates_are_removed_and_distinct_texts_kept() -> None:
    texts = [*DISTINCT, *PLANTED, DISTINCT[3].upper().replace(".", " !")]
    result = deduplicate(texts)
    assert result.kept == list(range(len(DISTINCT)))
    planted_indices = range(len(DISTINCT), len(DISTINCT) + len(PLANTED))
    assert {index: kept for index, (kept, _) in result.near.items()} == {
        index: original for index, original in zip(planted_indices, PLANTED.values(), strict=True)
    }
    assert all(value >= DEFAULT_THRESHOLD for _, value in result.near.values())
    assert result.exact == {len(texts) - 1: 3}, "case and punctuation do not make a text new"


def test_the_planted_pairs_lie_on_the_sides_of_the_threshold_as_stated() -> None:
    for text, original in PLANTED.items():
        assert similarity(text, DISTINCT[original]) >= DEFAULT_THRESHOLD
    for index, text in enumerate(DISTINCT):
        for other in DISTINCT[index + 1 :]:
            assert similarity(text, other) < 0.5


def test_the_threshold_decides_exactly() -> None:
    text, original = next(iter(PLANTED.items()))
    value = similarity(text, DISTINCT[original])
    above = deduplicate([DISTINCT[original], text], DedupeMethod(threshold=min(1.0, value + 0.001)))
    assert above.kept == [0, 1]
    at = deduplicate([DISTINCT[original], text], DedupeMethod(threshold=value))
    assert at.kept == [0] and at.near[1][0] == 0


def test_earlier_items_win_and_chains_do_not_collapse() -> None:
    # b is near a, c is near b but not near a: only b goes (c is compared with what was kept).
    method = DedupeMethod(threshold=0.9)
    a = DISTINCT[1]
    b = variant(a, ("green", "grey"))
    c = variant(b, ("5512", "7730"))
    assert similarity(a, b) >= 0.9 and similarity(b, c) >= 0.9 > similarity(a, c)
    result = deduplicate([a, b, c], method)
    assert result.kept == [0, 2]
    assert result.near[1][0] == 0


def test_short_and_empty_texts() -> None:
    result = deduplicate(["", "  ", "ok", "OK!", "no", "yes please"])
    assert result.exact == {1: 0, 3: 2}
    assert result.kept == [0, 2, 4, 5]


def test_method_is_described_and_bands_find_pairs_at_the_threshold() -> None:
    for threshold in (0.5, 0.7, 0.8, 0.9, 0.95, 1.0):
        method = DedupeMethod(threshold)
        rows = method.rows_per_band
        bands = PERMUTATIONS // rows
        assert rows * bands == PERMUTATIONS
        assert 1 - (1 - threshold**rows) ** bands >= CANDIDATE_RECALL
        described = method.describe()
        assert described["threshold"] == threshold
        assert (described["method"], described["bands"], described["rows_per_band"]) == (
            "minhash-lsh",
            bands,
            rows,
        )
    with pytest.raises(ValueError, match="threshold"):
        DedupeMethod(0.2)


words = st.sampled_from("refund order kettle broken invoice address account password ship return".split())
texts = st.lists(st.lists(words, min_size=1, max_size=25).map(" ".join), min_size=1, max_size=25)


@settings(max_examples=60, deadline=None)
@given(texts=texts, threshold=st.sampled_from([0.5, 0.7, 0.8, 0.9]))
def test_every_removal_is_justified(texts: list[str], threshold: float) -> None:
    result = deduplicate(texts, DedupeMethod(threshold))
    kept = set(result.kept)
    assert kept | set(result.exact) | set(result.near) == set(range(len(texts)))
    assert not (kept & set(result.exact)) and not (kept & set(result.near))
    for removed, original in result.exact.items():
        assert original in kept and original < removed
        assert normalise(texts[removed]) == normalise(texts[original])
    for removed, (original, value) in result.near.items():
        assert original in kept and original < removed
        assert similarity(texts[removed], texts[original]) >= threshold
        assert value == pytest.approx(similarity(texts[removed], texts[original]), abs=1e-6)
