"""Near-duplicate detection: word shingles, a bottom-k MinHash sketch, estimated Jaccard.

Each item keeps a sketch of its text: the `SKETCH_SIZE` smallest 64-bit hashes of its 3-word
shingles. Two sketches estimate the Jaccard similarity of the two shingle sets (shared shingles
over all shingles) without the texts: take the k smallest hashes of the union of both sketches,
and count the fraction present in both. With fewer than k shingles in each text the sketches
are the whole sets and the figure is exact.
"""

import hashlib
import heapq
import re
import unicodedata
from collections.abc import Iterable
from typing import TypeVar

from jobsched.constants import SHINGLE_WORDS, SKETCH_SIZE

Sketch = list[int]  # ascending
K = TypeVar("K")

_BLANKS = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Casefolded, each punctuation mark a space (so `well-known` and `well known` agree),
    blanks collapsed to one space."""
    folded = "".join(
        " " if unicodedata.category(char).startswith("P") else char for char in text.casefold()
    )
    return _BLANKS.sub(" ", folded).strip()


def shingles(text: str, k: int = SHINGLE_WORDS) -> set[str]:
    """Every run of k consecutive words; a text of fewer than k words is one shingle."""
    words = normalise(text).split(" ")
    if words == [""]:
        return set()
    if len(words) < k:
        return {" ".join(words)}
    return {" ".join(words[i : i + k]) for i in range(len(words) - k + 1)}


def shingle_hash(shingle: str) -> int:
    """The first 8 bytes of the shingle's BLAKE2b digest, as a big-endian unsigned integer."""
    return int.from_bytes(hashlib.blake2b(shingle.encode()).digest()[:8], "big")


def sketch_of(shingle_set: Iterable[str], k: int = SKETCH_SIZE) -> Sketch:
    return heapq.nsmallest(k, {shingle_hash(shingle) for shingle in shingle_set})


def sketch(text: str, k: int = SKETCH_SIZE) -> Sketch:
    return sketch_of(shingles(text), k)


def estimate_jaccard(a: Iterable[int], b: Iterable[int], k: int = SKETCH_SIZE) -> float:
    """The estimated Jaccard similarity of the texts the two sketches come from.

    The k smallest hashes of the union are a uniform sample of the union's shingles; each is in
    both texts exactly when it is in both sketches (a hash among the k smallest of the union is
    among the k smallest of each text that holds it). An empty text is similar to nothing.
    """
    set_a, set_b = set(a), set(b)
    if not set_a or not set_b:
        return 0.0
    sample = heapq.nsmallest(k, set_a | set_b)
    both = sum(1 for value in sample if value in set_a and value in set_b)
    return both / len(sample)


def most_similar(
    target: Sketch, candidates: Iterable[tuple[K, Sketch]], k: int = SKETCH_SIZE
) -> tuple[K, float] | None:
    """The key of the candidate most similar to `target` and its similarity (the first of
    equals), or None without candidates."""
    best: tuple[K, float] | None = None
    for candidate_id, candidate in candidates:
        similarity = estimate_jaccard(target, candidate, k)
        if best is None or similarity > best[1]:
            best = (candidate_id, similarity)
    return best
