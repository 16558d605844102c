"""The local runtime's reconcile at start frees the concurrency keys of the runs it ends: a run
left started whose worker is gone is lost, and the job its key held back runs next."""

from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.models import JobTemplate, RunStatus
from jobsched.models.concurrency import ConcurrencyLimit
from jobsched.ports import Stores
from local.exec.adopt import reconcile
from local.exec.executor import LocalExecutor


def test_a_run_lost_while_the_runtime_was_down_frees_its_key(
    base_stores: Stores, executor: LocalExecutor
) -> None:
    base_stores.templates.create(
        JobTemplate(
            template_id="one-at-a-time",
            name="One at a time",
            workload="echo",
            concurrency=[ConcurrencyLimit(key="template", limit=1)],
        )
    )
    first, _ = enqueue(base_stores, JobCreate(template_id="one-at-a-time"))
    second, _ = enqueue(base_stores, JobCreate(template_id="one-at-a-time"))
    dispatcher = Dispatcher(base_stores, base_stores.dispatch, DispatchConfig(slots=2))
    claim = dispatcher.claim()  # a previous life's claim: its worker never ran
    assert claim is not None
    assert dispatcher.claim() is None  # the key is held

    report = reconcile(base_stores, executor, dispatcher, 0.5, on_finished=lambda: None)
    assert report.lost == [claim.unit_id]
    assert base_stores.runs.get(claim.unit_id).status == RunStatus.FAILED
    taken = dispatcher.claim()
    assert taken is not None
    assert taken.job is not None
    assert taken.job.job_id == second.job_id
    assert first.job_id != second.job_id
