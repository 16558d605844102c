"""The status machines: what may follow what."""

import pytest

from jobsched import transitions as t
from jobsched.errors import ConflictError
from jobsched.models import GroupStatus, JobStatus, RunStatus


def test_a_queued_job_can_start_or_be_cancelled() -> None:
    assert t.JOB[JobStatus.QUEUED] == {JobStatus.RUNNING, JobStatus.CANCELLED, JobStatus.HELD}


@pytest.mark.parametrize("ended", [JobStatus.FINISHED, JobStatus.CANCELLED])
def test_an_ended_job_never_moves_again(ended: JobStatus) -> None:
    for target in JobStatus:
        assert not t.can_move(t.JOB, ended, target)


def test_only_queued_and_running_jobs_can_be_cancelled() -> None:
    assert t.sources(t.JOB, JobStatus.CANCELLED) == {
        JobStatus.QUEUED,
        JobStatus.HELD,
        JobStatus.RUNNING,
    }
    assert t.sources(t.JOB, JobStatus.RUNNING) == {JobStatus.QUEUED}


def test_a_retry_sends_a_running_job_back_to_the_queue() -> None:
    assert t.can_move(t.JOB, JobStatus.RUNNING, JobStatus.QUEUED)


def test_runs_end_once() -> None:
    assert t.RUN[RunStatus.STARTED] == {RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.REJECTED}
    for ended in (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.REJECTED, RunStatus.SKIPPED):
        assert t.RUN[ended] == frozenset()


def test_check_move_names_the_current_status() -> None:
    with pytest.raises(ConflictError, match="is completed; it cannot become cancelled"):
        t.check_move(t.GROUP, "group g", GroupStatus.COMPLETED, GroupStatus.CANCELLED)
    t.check_move(t.GROUP, "group g", GroupStatus.QUEUED, GroupStatus.CANCELLED)


def test_every_status_has_a_row() -> None:
    assert set(t.JOB) == set(JobStatus)
    assert set(t.RUN) == set(RunStatus)
    assert set(t.GROUP) == set(GroupStatus)


def test_a_held_job_is_released_or_cancelled_never_started() -> None:
    assert t.JOB[JobStatus.HELD] == {JobStatus.QUEUED, JobStatus.CANCELLED}
    assert not t.can_move(t.JOB, JobStatus.HELD, JobStatus.RUNNING)


def test_hold_conflicts_name_the_status_and_the_rule() -> None:
    assert "only a queued job can be held" in str(t.hold_conflict("j", "running", True))
    assert "only a held job can be released" in str(t.hold_conflict("j", "queued", False))
