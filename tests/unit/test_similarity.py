"""Near-duplicate detection: normalising, shingles, bottom-k sketches, the estimate, and the
default threshold against a corpus of near and far pairs."""

import pytest

from jobsched.constants import SKETCH_SIZE
from jobsched.content.similarity import (
    estimate_jaccard,
    most_similar,
    normalise,
    shingle_hash,
    shingles,
    sketch,
)
from jobsched.settings import Settings
from tests.support.content_samples import FAR_PAIRS, LIGHTHOUSE, LIGHTHOUSE_AUTOMATED, NEAR_PAIRS

THRESHOLD = Settings().dedup_threshold


def exact_jaccard(a: str, b: str) -> float:
    left, right = shingles(a), shingles(b)
    return len(left & right) / len(left | right)


def test_normalise_casefolds_drops_punctuation_and_collapses_blanks() -> None:
    assert normalise("  Hello,\tWORLD!  It's   well-known…\n") == "hello world it s well known"
    assert normalise("Straße — «quoted»") == "strasse quoted"
    assert normalise("?!.") == ""


def test_shingles_are_three_word_runs() -> None:
    assert shingles("The cat sat on the mat.") == {
        "the cat sat",
        "cat sat on",
        "sat on the",
        "on the mat",
    }
    assert shingles("A cat, a CAT: a cat!") == {"a cat a", "cat a cat"}  # a set: repeats once


def test_a_text_shorter_than_a_shingle_is_one_shingle() -> None:
    assert shingles("Two words") == {"two words"}
    assert shingles("One") == {"one"}
    assert shingles(" ... ") == set()


def test_the_hash_is_the_first_eight_bytes_of_blake2b() -> None:
    import hashlib

    digest = hashlib.blake2b(b"the cat sat").digest()
    assert shingle_hash("the cat sat") == int.from_bytes(digest[:8], "big")
    assert 0 <= shingle_hash("x") < 2**64


def test_a_sketch_keeps_the_smallest_hashes_in_order() -> None:
    long_sketch = sketch(LIGHTHOUSE)
    every_hash = sorted(shingle_hash(s) for s in shingles(LIGHTHOUSE))

    assert len(every_hash) > SKETCH_SIZE
    assert long_sketch == every_hash[:SKETCH_SIZE]
    assert sketch("Two words") == [shingle_hash("two words")]
    assert sketch("") == []


def test_small_sets_give_the_exact_jaccard() -> None:
    a, b = "the quick brown fox jumps over", "the quick brown fox sleeps over"
    assert len(shingles(a)) < SKETCH_SIZE

    assert estimate_jaccard(sketch(a), sketch(b)) == pytest.approx(exact_jaccard(a, b))
    assert estimate_jaccard(sketch(a), sketch(a)) == 1.0
    assert estimate_jaccard(sketch(a), sketch("nothing in common here at all")) == 0.0


def test_an_empty_text_is_similar_to_nothing() -> None:
    assert estimate_jaccard([], []) == 0.0
    assert estimate_jaccard(sketch("some words here"), []) == 0.0


@pytest.mark.parametrize(("name", "a", "b"), NEAR_PAIRS + FAR_PAIRS, ids=lambda v: str(v)[:40])
def test_the_estimate_is_close_to_the_exact_figure(name: str, a: str, b: str) -> None:
    # bottom-64: a standard error of at most 0.0625; the corpus stays well inside twice that
    assert abs(estimate_jaccard(sketch(a), sketch(b)) - exact_jaccard(a, b)) < 0.08, name


def test_the_estimate_is_symmetric() -> None:
    a, b = sketch(LIGHTHOUSE), sketch(LIGHTHOUSE_AUTOMATED)
    assert estimate_jaccard(a, b) == estimate_jaccard(b, a)


@pytest.mark.parametrize(("name", "a", "b"), NEAR_PAIRS, ids=[p[0] for p in NEAR_PAIRS])
def test_near_duplicates_reach_the_default_threshold(name: str, a: str, b: str) -> None:
    assert estimate_jaccard(sketch(a), sketch(b)) >= THRESHOLD


@pytest.mark.parametrize(("name", "a", "b"), FAR_PAIRS, ids=[p[0] for p in FAR_PAIRS])
def test_different_items_stay_under_the_default_threshold(name: str, a: str, b: str) -> None:
    assert estimate_jaccard(sketch(a), sketch(b)) < THRESHOLD


def test_the_default_threshold_sits_in_the_gap_with_a_margin() -> None:
    near = [estimate_jaccard(sketch(a), sketch(b)) for _, a, b in NEAR_PAIRS]
    far = [estimate_jaccard(sketch(a), sketch(b)) for _, a, b in FAR_PAIRS]
    print(f"near {min(near):.3f}..{max(near):.3f}  far {min(far):.3f}..{max(far):.3f}")

    assert THRESHOLD == 0.5
    assert max(far) < THRESHOLD - 0.2 < THRESHOLD < min(near) - 0.05


def test_most_similar_picks_the_best_candidate() -> None:
    target = sketch(LIGHTHOUSE)
    candidates = [
        ("other", sketch(LIGHTHOUSE_AUTOMATED)),
        ("same", sketch(LIGHTHOUSE.replace("winters", "years"))),
    ]

    best = most_similar(target, candidates)

    assert best is not None
    assert best[0] == "same"
    assert best[1] > 0.9
    assert most_similar(target, []) is None
