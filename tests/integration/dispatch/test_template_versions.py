"""A job runs with the template version it was enqueued against (its params were checked by
it), whatever the template has become since; its runs record that version."""

from jobsched.dispatch.dispatcher import Dispatcher
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.jobs.templates import TemplatePatch, update_template
from jobsched.models import RunStatus
from jobsched.models.units import Outcome
from jobsched.ports import Stores
from tests.support.dispatch import Clock

LATER = TemplatePatch(workload="research", timeout_seconds=60, cpu=4096, memory=8192)


def test_a_job_runs_with_the_version_it_was_enqueued_against(
    dispatcher: Dispatcher, wired: Stores, template: str
) -> None:
    early, _ = enqueue(wired, JobCreate(template_id=template))
    update_template(wired, template, LATER)
    late, _ = enqueue(wired, JobCreate(template_id=template))

    first = dispatcher.claim()
    assert first is not None
    second = dispatcher.finish(first, Outcome(exit_code=0))
    assert second is not None

    assert (early.template_version, late.template_version) == (1, 2)
    assert first.job is not None
    assert first.job.job_id == early.job_id
    assert first.template is not None
    assert first.run is not None
    assert (first.template.version, first.template.workload, first.template.cpu) == (
        1,
        "echo",
        1024,
    )
    assert first.run.template_version == 1
    assert wired.runs.get(first.run.run_id).template_version == 1
    assert second.template is not None
    assert second.run is not None
    assert (second.template.version, second.template.workload) == (2, "research")
    assert wired.runs.get(second.run.run_id).template_version == 2
    assert wired.jobs.get(early.job_id).template_version == 1


def test_a_retry_keeps_the_version_and_its_retry_policy(
    dispatcher: Dispatcher, wired: Stores, template: str, clock: Clock
) -> None:
    job, _ = enqueue(wired, JobCreate(template_id=template))
    claim = dispatcher.claim()
    assert claim is not None
    # v2 would allow no retry at all; the job keeps v1's two attempts.
    update_template(wired, template, TemplatePatch(retry={"max_attempts": 1}, name="v2"))
    assert dispatcher.finish(claim, Outcome(exit_code=3)) is None
    clock.advance(31)

    retried = dispatcher.claim()

    assert retried is not None
    assert retried.run is not None
    assert retried.template is not None
    assert retried.job is not None
    assert retried.job.job_id == job.job_id
    assert (retried.run.attempt, retried.run.template_version) == (2, 1)
    assert (retried.template.version, retried.template.name) == (1, "Work")
    dispatcher.finish(retried, Outcome(exit_code=0))
    assert wired.runs.get(retried.run.run_id).status == RunStatus.COMPLETED
