"""Queue ranks: key ordering, placement between neighbours, and appends at the end of a band."""

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobsched.constants import PRIORITY_IMMEDIATE
from jobsched.ranks import (
    Anchor,
    QueueRank,
    band_of,
    frac_between,
    priority_of_band,
    rank_after,
    rank_between,
    ranks_after,
)

BASE_62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
IMMEDIATE, HIGH, NORMAL, LOW = band_of(PRIORITY_IMMEDIATE), band_of(75), band_of(50), band_of(25)


def rank(band: str, frac: str, job_id: str = "job_x") -> QueueRank:
    return QueueRank(band, frac, job_id)


def keys_in_order(ranks: list[QueueRank]) -> bool:
    keys = [r.key for r in ranks]
    return keys == sorted(keys) and len(set(keys)) == len(keys)


# --- bands and keys ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("priority", "band"),
    [(PRIORITY_IMMEDIATE, "000"), (100, "001"), (75, "026"), (50, "051"), (0, "101")],
)
def test_band_is_fixed_width_and_inverts_priority(priority: int, band: str) -> None:
    assert band_of(priority) == band
    assert priority_of_band(band) == priority


def test_key_round_trips_through_parse() -> None:
    original = rank(NORMAL, "a0V", "job_01abc")
    assert original.key == "051a0V#job_01abc"
    assert QueueRank.parse(original.key) == original
    assert original.priority == 50


def test_keys_order_by_band_then_frac_then_job_id() -> None:
    expected = [
        rank(IMMEDIATE, "a5", "job_z"),  # immediate before every int priority
        rank(band_of(100), "a0", "job_z"),
        rank(HIGH, "Zz", "job_z"),
        rank(NORMAL, "a0", "job_b"),
        rank(NORMAL, "a0", "job_c"),  # same frac (a concurrent insert): job id breaks the tie
        rank(NORMAL, "a0V", "job_a"),  # a frac that extends another sorts after it
        rank(NORMAL, "a1", "job_a"),
        rank(band_of(0), "a0", "job_a"),
    ]
    assert sorted(expected, key=lambda r: r.key) == expected
    assert sorted(expected) == expected  # the dataclass order agrees with the key order


@given(
    st.lists(
        st.builds(
            QueueRank,
            st.integers(0, PRIORITY_IMMEDIATE).map(band_of),
            st.text(BASE_62, min_size=1, max_size=6),
            st.text("0123456789abcdefghjkmnpqrstvwxyz_", min_size=1, max_size=8),
        ),
        max_size=20,
    )
)
def test_key_order_equals_dataclass_order(ranks: list[QueueRank]) -> None:
    # The separator sorts below every base-62 digit, so string keys order like the tuples.
    assert [r.key for r in sorted(ranks)] == sorted(r.key for r in ranks)


# --- frac_between, rank_after, ranks_after ---------------------------------------------------


def test_frac_between_is_strictly_between_and_returns_lo_on_a_tie() -> None:
    assert "a0" < frac_between("a0", "a1") < "a1"
    assert frac_between(None, "a0") < "a0"
    assert frac_between("a0", None) > "a0"
    assert frac_between("a3", "a3") == "a3"  # nothing fits: the job id orders the two


def test_rank_after_starts_a_band_and_appends_to_it() -> None:
    first = rank_after(None, NORMAL, "job_1")
    assert first.band == NORMAL
    second = rank_after(first, NORMAL, "job_2")
    assert keys_in_order([first, second])


def test_rank_after_ignores_a_last_job_of_another_band() -> None:
    other = rank(HIGH, "zz", "job_1")
    assert rank_after(other, NORMAL, "job_2") == rank_after(None, NORMAL, "job_2")


def test_ranks_after_gives_consecutive_ranks_in_order() -> None:
    last = rank(NORMAL, "a5", "job_0")
    ranks = ranks_after(last, NORMAL, ["job_3", "job_1", "job_2"])
    assert [r.job_id for r in ranks] == ["job_3", "job_1", "job_2"]
    assert all(r.band == NORMAL for r in ranks)
    assert keys_in_order([last, *ranks])


def test_ranks_after_empty_band_and_no_jobs() -> None:
    assert ranks_after(None, LOW, []) == []
    assert keys_in_order(ranks_after(rank(HIGH, "zz"), LOW, [f"job_{i}" for i in range(50)]))


# --- rank_between ------------------------------------------------------------------------------


def test_between_nothing_keeps_own_band() -> None:
    placed = rank_between(LOW, None, None, "job_new", "next")
    assert placed.band == LOW


@pytest.mark.parametrize("anchor", ["next", "previous"])
def test_keeps_own_band_when_it_fits_between_the_neighbours(anchor: Anchor) -> None:
    before, after = rank(HIGH, "a0", "job_b"), rank(LOW, "a0", "job_a")
    placed = rank_between(NORMAL, before, after, "job_new", anchor)
    assert placed.band == NORMAL
    assert keys_in_order([before, placed, after])


def test_keeps_own_band_next_to_a_neighbour_of_that_band() -> None:
    before, after = rank(NORMAL, "a0", "job_b"), rank(LOW, "a0", "job_a")
    placed = rank_between(NORMAL, before, after, "job_new", "next")
    assert placed.band == NORMAL
    assert keys_in_order([before, placed, after])


@pytest.mark.parametrize(
    ("anchor", "band"),
    [("next", LOW), ("previous", HIGH)],
)
def test_takes_the_anchors_band_when_its_own_does_not_fit(anchor: Anchor, band: str) -> None:
    # An immediate job moved between a high and a low job becomes high ("after" the high job)
    # or low ("before" the low job): the neighbour it was placed against decides.
    before, after = rank(HIGH, "a0", "job_b"), rank(LOW, "a0", "job_a")
    placed = rank_between(IMMEDIATE, before, after, "job_new", anchor)
    assert placed.band == band
    assert keys_in_order([before, placed, after])


def test_moving_to_the_front_ahead_of_an_immediate_job_makes_it_immediate() -> None:
    head = rank(IMMEDIATE, "a0", "job_head")
    placed = rank_between(NORMAL, None, head, "job_new", "next")
    assert placed.band == IMMEDIATE
    assert keys_in_order([placed, head])


def test_moving_to_the_end_behind_a_low_job_makes_it_low() -> None:
    tail = rank(LOW, "a0", "job_tail")
    placed = rank_between(HIGH, tail, None, "job_new", "previous")
    assert placed.band == LOW
    assert keys_in_order([tail, placed])


def test_tied_neighbours_give_the_same_frac_and_the_job_id_orders() -> None:
    # Two concurrent inserts gave two neighbours one frac; no frac fits between them, so the
    # job takes theirs. It lands between them only when its id does, next to them otherwise.
    before, after = rank(NORMAL, "a0", "job_a"), rank(NORMAL, "a0", "job_c")
    placed = rank_between(NORMAL, before, after, "job_b", "next")
    assert placed.frac == "a0"
    assert keys_in_order([before, placed, after])
    outside = rank_between(NORMAL, before, after, "job_z", "next")
    assert keys_in_order([before, after, outside])


def test_previous_anchor_at_the_front_of_a_higher_band() -> None:
    after = rank(HIGH, "a0", "job_a")
    placed = rank_between(NORMAL, None, after, "job_new", "previous")
    assert keys_in_order([placed, after])


# --- property: any sequence of placements keeps the intended order --------------------------


@dataclass(frozen=True)
class Place:
    """Put a job (new, or moved from `source`) in front of `index` of the list without it."""

    index: int
    priority: int
    how: str  # "position" | "before" | "after" | "append" (end of its band)
    source: int | None = None  # a job already in the list to move; None inserts a new one


places = st.builds(
    Place,
    index=st.integers(0, 10_000),
    priority=st.sampled_from([PRIORITY_IMMEDIATE, 100, 75, 50, 25, 0]),
    how=st.sampled_from(["position", "before", "after", "append"]),
    source=st.none() | st.integers(0, 10_000),
)


def apply(queue: list[QueueRank], step: Place, job_id: str) -> list[QueueRank]:
    """Place one job the way the use cases do (see usecases/placement.py) and return the list."""
    own_band = band_of(step.priority)
    if step.source is not None and queue:
        moved = queue[step.source % len(queue)]
        queue = [r for r in queue if r != moved]
        job_id, own_band = moved.job_id, moved.band
    if step.how == "append" or not queue:
        last = max((r for r in queue if r.band == own_band), default=None)
        new = rank_after(last, own_band, job_id)
        index = sum(1 for r in queue if r.band <= own_band)  # behind its band, ahead of lower
        return [*queue[:index], new, *queue[index:]]
    index = step.index % (len(queue) + 1)
    before: QueueRank | None
    anchor: Anchor
    if step.how == "after":  # behind queue[index - 1]: anchored on that previous job
        index = max(index, 1)
        before, after, anchor = queue[index - 1], _at(queue, index), "previous"
    else:  # a position or "before X": anchored on the next job, or the last one at the end
        before = queue[index - 1] if index else None
        after = _at(queue, index)
        anchor = "next" if after is not None else "previous"
    new = rank_between(own_band, before, after, job_id, anchor)
    return [*queue[:index], new, *queue[index:]]


def _at(queue: list[QueueRank], index: int) -> QueueRank | None:
    return queue[index] if index < len(queue) else None


@settings(max_examples=300, deadline=None)
@given(st.lists(places, min_size=1, max_size=60))
def test_sorted_keys_follow_the_intended_order(steps: list[Place]) -> None:
    queue: list[QueueRank] = []
    for number, step in enumerate(steps):
        # Ids that sort against insertion order, so the order cannot come from the ids.
        queue = apply(queue, step, f"job_{999 - number:03d}")
        assert [r.key for r in sorted(queue, key=lambda r: r.key)] == [r.key for r in queue]
    assert len({r.job_id for r in queue}) == len(queue)
