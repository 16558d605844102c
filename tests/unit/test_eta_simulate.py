"""The ETA replay (jobsched.foresight.simulate): the dispatcher's rule on the slots, drawn."""

import pytest

from jobsched.foresight.simulate import (
    Ahead,
    Durations,
    Key,
    RunningUnit,
    WaitingUnit,
    estimate,
)

TEN = Durations((10.0,), "history")


def job(unit_id: str, durations: Durations = TEN, **kwargs: object) -> WaitingUnit:
    return WaitingUnit(unit_id, (durations,), **kwargs)  # type: ignore[arg-type]


def starts(result: dict[str, object]) -> dict[str, float | None]:
    return {unit_id: e.start_p50 for unit_id, e in result.items()}  # type: ignore[attr-defined]


def test_one_slot_runs_the_queue_in_order() -> None:
    result = estimate(1, [], [[job("a"), job("b"), job("c")]])
    assert starts(result) == {"a": 0.0, "b": 10.0, "c": 20.0}
    assert result["c"].finish_p90 == 30.0


def test_slots_run_side_by_side() -> None:
    result = estimate(2, [], [[job("a"), job("b"), job("c"), job("d")]])
    assert starts(result) == {"a": 0.0, "b": 0.0, "c": 10.0, "d": 10.0}


def test_a_running_unit_frees_its_slot_after_what_is_left_of_it() -> None:
    running = RunningUnit("r", elapsed=4.0, durations=TEN)
    result = estimate(1, [running], [[job("a")]])
    assert result["r"].finish_p50 == pytest.approx(6.0)
    assert result["a"].start_p50 == pytest.approx(6.0)


def test_a_retry_waiting_out_its_backoff_is_passed_over() -> None:
    result = estimate(1, [], [[job("retry", not_before=30.0), job("next")]])
    assert starts(result) == {"retry": 30.0, "next": 0.0}


def test_units_that_wait_for_the_same_time_take_the_slot_in_turn() -> None:
    # Waiting out a backoff (or a budget's turn) does not make the slot two.
    result = estimate(1, [], [[job("a", not_before=30.0), job("b", not_before=30.0)]])
    assert starts(result) == {"a": 30.0, "b": 40.0}


def test_a_sequential_groups_jobs_start_one_after_the_other() -> None:
    waiting = [job("g1", sequence="g"), job("g2", sequence="g"), job("other")]
    result = estimate(2, [], [waiting])
    assert starts(result) == {"g1": 0.0, "g2": 10.0, "other": 0.0}


def test_a_running_sequential_job_holds_back_its_groups_next() -> None:
    running = RunningUnit("g1", elapsed=0.0, durations=TEN, group_id="g")
    result = estimate(2, [running], [[job("g2", sequence="g"), job("other")]])
    assert starts(result) == {"g1": 0.0, "g2": 10.0, "other": 0.0}


def test_a_full_concurrency_key_holds_a_unit_back_and_lets_others_pass() -> None:
    key = (Key("customer=acme", 1),)
    running = RunningUnit("r", elapsed=0.0, durations=TEN, keys=key)
    result = estimate(3, [running], [[job("same", keys=key), job("free")]])
    assert starts(result) == {"r": 0.0, "same": 10.0, "free": 0.0}


def test_a_key_limit_of_two_lets_two_run_at_once() -> None:
    key = (Key("template=t", 2),)
    waiting = [job(name, keys=key) for name in ("a", "b", "c")]
    result = estimate(3, [], [waiting])
    assert starts(result) == {"a": 0.0, "b": 0.0, "c": 10.0}


def test_a_held_job_has_no_start_and_holds_back_its_groups_later_jobs_only() -> None:
    waiting = [
        job("first", sequence="g"),
        job("held", sequence="g", held=True),
        job("after", sequence="g"),
        job("other"),
    ]
    result = estimate(1, [], [waiting])
    assert starts(result) == {"first": 0.0, "held": None, "after": None, "other": 10.0}


def test_a_parallel_group_is_one_unit_that_ends_with_its_longest_job() -> None:
    group = WaitingUnit("group", (TEN, Durations((30.0,), "history")))
    result = estimate(1, [], [[group, job("next")]])
    assert result["group"].finish_p50 == 30.0
    assert result["next"].start_p50 == 30.0


def test_unread_jobs_ahead_delay_the_page_by_their_work_over_the_slots() -> None:
    result = estimate(2, [], [[], Ahead(100, TEN), [job("a")]])
    assert result["a"].start_p50 == pytest.approx(500.0)  # 100 x 10 s over two slots
    few = estimate(1, [], [[], Ahead(3, TEN), [job("a")]])
    assert few["a"].start_p50 == 30.0


def test_p90_is_the_late_end_of_a_spread_history() -> None:
    spread = Durations(tuple(float(d) for d in range(1, 101)), "history")
    result = estimate(1, [], [[job("a", spread), job("b", spread)]], trials=400)
    b = result["b"]
    assert b.start_p50 is not None
    assert b.start_p90 is not None
    assert 35 <= b.start_p50 <= 65  # the first job's median duration, about 50 s
    assert 80 <= b.start_p90 <= 100
    assert b.finish_p90 is not None
    assert b.finish_p90 > b.start_p90


def test_a_run_older_than_its_whole_history_is_taken_to_end_soon() -> None:
    running = RunningUnit("r", elapsed=100.0, durations=Durations((10.0, 20.0), "history"))
    finish = estimate(1, [running], [])["r"].finish_p90
    assert finish is not None
    assert 0.0 <= finish <= 10.0


def test_the_same_queue_gets_the_same_answer() -> None:
    spread = Durations((5.0, 50.0, 500.0), "history")
    waiting = [[job(str(i), spread) for i in range(20)]]
    assert estimate(2, [], waiting) == estimate(2, [], waiting)


def test_a_distribution_needs_a_sample() -> None:
    with pytest.raises(ValueError, match="at least one sample"):
        Durations((), "history")


def test_a_swap_changes_the_estimates_of_the_swapped_jobs_only() -> None:
    spread = Durations(tuple(float(d) for d in range(1, 60)), "history")
    order = [job(name, spread) for name in ("a", "b", "c", "d")]
    swapped = [order[1], order[0], *order[2:]]

    now, after = estimate(1, [], [order]), estimate(1, [], [swapped])

    assert now["c"] == after["c"]  # the same work ahead, drawn the same: the same estimate
    assert now["d"] == after["d"]
    assert now["a"].start_p50 == 0.0
    assert after["b"].start_p50 == 0.0
    assert after["a"] != now["a"]
