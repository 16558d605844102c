"""Catch-up on both stores (jobsched.schedules.catch_up): missed times run through the fire use
case under each policy and the overlap policy, the others recorded as skipped runs with the
reason, the mark moved on; a pass repeated (or two racing from one read) changes nothing; a
time EventBridge never delivered, between two it did, is found; both stores keep the fields;
the API takes, shows and checks them (v2 and /scheduler)."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from jobsched.models import CatchUpPolicy, FireOutcome, OverlapPolicy, RunStatus, Schedule
from jobsched.ports import JobFilter, RunFilter, Stores
from jobsched.schedules.catch_up import catch_up, catch_up_all
from jobsched.schedules.fire import FireResult, fire, fire_key
from tests.support.api import V2, assert_problem
from tests.support.eventbridge import fields_of

NOON = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)
NOW = NOON + timedelta(seconds=30)
HORIZON = NOW - timedelta(seconds=5)


def minute(n: int) -> datetime:
    return NOON - timedelta(minutes=n)


def _schedule(
    stores: Stores,
    policy: CatchUpPolicy,
    fired_through: datetime | None = minute(5),
    overlap: OverlapPolicy = OverlapPolicy.ALLOW,
    **fields: object,
) -> Schedule:
    schedule = Schedule(
        schedule_id="sch_missed",
        name="missed",
        template_id="echo",
        expression="cron(* * * * ? *)",
        catch_up=policy,
        catch_up_window_minutes=60,
        overlap_policy=overlap,
        fired_through=fired_through,
        created_at=minute(600),
        **fields,  # type: ignore[arg-type]
    )
    stores.schedules.create(schedule)
    return schedule


def _jobs(stores: Stores) -> list[str]:
    page = stores.jobs.list_page(JobFilter(schedule_id="sch_missed"), 100, None)
    return sorted(job.job_id for job in page.items)


def _skipped(stores: Stores) -> dict[str, str | None]:
    filters = RunFilter(schedule_id="sch_missed", status=RunStatus.SKIPPED)
    page = stores.runs.list_page(filters, 100, None)
    return {run.run_id: run.error for run in page.items}


def _enqueued_for(stores: Stores, time: datetime) -> str | None:
    record = stores.jobs.find_idempotency(fire_key("sch_missed", time))
    return record.resource_id if record else None


def test_latest_runs_the_newest_missed_time_and_records_the_rest(
    stores: Stores, echo_template: str
) -> None:
    schedule = _schedule(stores, CatchUpPolicy.LATEST)

    done = catch_up(stores, schedule, NOW, HORIZON, 10)

    assert [(time, fired.result) for time, fired in done.fired] == [
        (minute(0), FireResult.ENQUEUED)
    ]
    [job_id] = _jobs(stores)
    assert _enqueued_for(stores, minute(0)) == job_id
    skipped = _skipped(stores)
    assert len(skipped) == 4
    assert set(skipped.values()) == {
        "catch-up latest: the newest missed fire, 2027-01-04T12:00:00Z, runs instead"
    }
    stored = stores.schedules.get("sch_missed")
    assert stored.fired_through == HORIZON
    assert stored.last_run is not None
    assert (stored.last_run.job_id, stored.last_run.scheduled_time) == (job_id, minute(0))

    again = catch_up(stores, stored, NOW + timedelta(seconds=1), HORIZON, 10)
    assert (again.fired, again.skipped) == ([], [])
    assert (_jobs(stores), _skipped(stores)) == ([job_id], skipped)


def test_two_passes_from_one_read_enqueue_once_and_record_once(
    stores: Stores, echo_template: str
) -> None:
    """A ticker and a repair racing (or a repair run twice) read the same mark."""
    schedule = _schedule(stores, CatchUpPolicy.ALL, fired_through=minute(3))

    first = catch_up(stores, schedule, NOW, HORIZON, 2)
    jobs, skipped = _jobs(stores), _skipped(stores)
    second = catch_up(stores, schedule, NOW, HORIZON, 2)

    assert [fired.result for _, fired in first.fired] == [FireResult.ENQUEUED] * 2
    assert [fired.result for _, fired in second.fired] == [FireResult.DUPLICATE] * 2
    assert len(jobs) == 2
    assert set(skipped.values()) == {"catch-up bound of 2 reached"}
    assert len(skipped) == 1
    assert (_jobs(stores), _skipped(stores)) == (jobs, skipped)


def test_none_runs_nothing_and_shows_the_newest_skip_as_the_last_run(
    stores: Stores, echo_template: str
) -> None:
    schedule = _schedule(stores, CatchUpPolicy.NONE)

    catch_up(stores, schedule, NOW, HORIZON, 10)

    assert _jobs(stores) == []
    assert len(_skipped(stores)) == 5
    stored = stores.schedules.get("sch_missed")
    assert stored.last_run is not None
    assert stored.last_run.outcome == FireOutcome.SKIPPED
    assert stored.last_run.scheduled_time == minute(0)
    assert stored.last_run.reason == "catch-up none: a missed fire is not run late"
    # A late delivery of a recorded time finds it: a duplicate, not a job.
    assert fire(stores, "sch_missed", minute(2), NOW).result == FireResult.DUPLICATE


def test_the_overlap_policy_applies_to_each_catch_up_fire(
    stores: Stores, echo_template: str
) -> None:
    schedule = _schedule(stores, CatchUpPolicy.ALL, overlap=OverlapPolicy.SKIP)

    done = catch_up(stores, schedule, NOW, HORIZON, 10)

    results = [fired.result for _, fired in done.fired]
    assert results == [FireResult.ENQUEUED] + [FireResult.SKIPPED] * 4
    [job_id] = _jobs(stores)
    assert set(_skipped(stores).values()) == {f"overlap: previous job {job_id} is queued"}


def test_a_disabled_schedule_is_caught_up_when_enabled(stores: Stores, echo_template: str) -> None:
    schedule = _schedule(stores, CatchUpPolicy.LATEST, enabled=False)
    assert catch_up(stores, schedule, NOW, HORIZON, 10).fired == []
    assert (_jobs(stores), _skipped(stores)) == ([], {})

    enabled = schedule.model_copy(update={"enabled": True, "version": 2})
    stores.schedules.replace(enabled, expected_version=1)
    done = catch_up(stores, stores.schedules.get("sch_missed"), NOW, HORIZON, 10)
    assert [time for time, _ in done.fired] == [minute(0)]


def test_a_time_never_delivered_between_two_fires_keeps_the_mark_for_catch_up(
    stores: Stores, echo_template: str
) -> None:
    """EventBridge fired 11:57 and 11:59 but never delivered 11:58 (it went to the DLQ)."""
    _schedule(stores, CatchUpPolicy.ALL, fired_through=minute(4))
    fire(stores, "sch_missed", minute(3), NOW)
    assert stores.schedules.get("sch_missed").fired_through == minute(3)  # contiguous
    fire(stores, "sch_missed", minute(1), NOW)
    assert stores.schedules.get("sch_missed").fired_through == minute(3)  # 11:58 missing

    report = catch_up_all(stores, 10, grace=timedelta(seconds=5), now=NOW)

    assert _enqueued_for(stores, minute(2)) is not None  # run late
    assert report.fired == 3  # 11:58 enqueued; 11:59 a duplicate; noon
    assert len(_jobs(stores)) == 4
    assert stores.schedules.get("sch_missed").fired_through == HORIZON
    # The next on-time fire follows times that are all handled: the mark moves with it.
    fire(stores, "sch_missed", NOON + timedelta(minutes=1), NOW + timedelta(minutes=1))
    assert stores.schedules.get("sch_missed").fired_through == NOON + timedelta(minutes=1)


def test_a_change_of_timing_starts_catch_up_afresh(stores: Stores, echo_template: str) -> None:
    from jobsched.schedules.usecases import SchedulePatch, update_schedule

    _schedule(stores, CatchUpPolicy.LATEST, fired_through=minute(300))
    update_schedule(stores, "sch_missed", SchedulePatch(expression="cron(*/2 * * * ? *)"), NOW)
    assert stores.schedules.get("sch_missed").fired_through == NOW


@pytest.mark.parametrize("policy", list(CatchUpPolicy))
def test_the_fields_round_trip_and_the_mark_only_moves_forward(
    stores: Stores, policy: CatchUpPolicy
) -> None:
    schedule = _schedule(stores, policy, fired_through=None)
    stored = stores.schedules.get("sch_missed")
    assert (stored.catch_up, stored.catch_up_window_minutes) == (policy, 60)
    assert stored.fired_through is None

    stores.schedules.advance_fired_through("sch_missed", minute(2))
    stores.schedules.advance_fired_through("sch_missed", minute(3))  # earlier: kept
    assert stores.schedules.get("sch_missed").fired_through == minute(2)
    later = minute(1) + timedelta(microseconds=250)
    stores.schedules.advance_fired_through("sch_missed", later)
    assert stores.schedules.get("sch_missed").fired_through == later

    # A versioned write (a PATCH) never writes the mark, whatever its copy holds.
    changed = schedule.model_copy(update={"name": "renamed", "version": 2, "fired_through": None})
    stores.schedules.replace(changed, expected_version=1)
    assert stores.schedules.get("sch_missed").fired_through == later
    stores.schedules.advance_fired_through("sch_gone", later)  # no record: no error


# --- the API -----------------------------------------------------------------------------------


def _body(**fields: object) -> dict[str, object]:
    return {"name": "n", "template_id": "echo", "expression": "cron(0 3 * * ? *)", **fields}


def test_the_api_takes_shows_and_changes_the_catch_up_fields(
    client: TestClient, echo_template: str
) -> None:
    default = client.post(f"{V2}/schedules", json=_body())
    assert default.status_code == 201, default.text
    assert (default.json()["catch_up"], default.json()["catch_up_window_minutes"]) == (
        "latest",
        1440,
    )
    assert "fired_through" not in default.json()

    created = client.post(
        "/scheduler/schedules", json=_body(catch_up="all", catch_up_window_minutes=90)
    )
    assert created.status_code == 201, created.text
    schedule_id = created.json()["schedule_id"]
    shown = client.get(f"{V2}/schedules/{schedule_id}").json()
    assert (shown["catch_up"], shown["catch_up_window_minutes"]) == ("all", 90)

    patched = client.patch(f"/scheduler/schedules/{schedule_id}", json={"catch_up": "none"})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["catch_up"], patched.json()["catch_up_window_minutes"]) == ("none", 90)
    # The GET's body sent back changes nothing.
    again = client.patch(f"{V2}/schedules/{schedule_id}", json=patched.json())
    assert again.status_code == 200, again.text
    assert again.json()["version"] == patched.json()["version"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"catch_up": "some"}, "catch_up"),
        ({"catch_up": None}, "catch_up"),
        ({"catch_up_window_minutes": 0}, "catch_up_window_minutes"),
        ({"catch_up_window_minutes": 10081}, "catch_up_window_minutes"),
        ({"catch_up_window_minutes": "60"}, "catch_up_window_minutes"),
    ],
)
def test_bad_catch_up_fields_are_422_naming_the_field(
    client: TestClient, echo_template: str, fields: dict[str, object], field: str
) -> None:
    response = client.post(f"{V2}/schedules", json=_body(**fields))
    assert_problem(response, 422)
    assert field in fields_of(response), response.json()

    created = client.post(f"{V2}/schedules", json=_body()).json()
    patch = client.patch(f"/scheduler/schedules/{created['schedule_id']}", json=fields)
    assert_problem(patch, 422)
    assert field in fields_of(patch), patch.json()
