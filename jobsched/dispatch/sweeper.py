"""Recovery: units whose lease expired (no heartbeat: the worker or the dispatcher was lost).

Runs every minute on AWS (an EventBridge Scheduler rate schedule) and as a background task
locally. A lost unit's run ends failed with error "lost" (or with the exit code its worker
reported before the dispatcher vanished), the retry policy applies, its task is stopped in case
it lingers, the slot is freed, and the dispatcher is kicked when work waits. Jobs started
outside the queue hold no slot: their runs are checked one by one (jobsched.dispatch.reconcile).
It also stops the running runs that crossed a budget that stops runs (dispatch/budget_watch.py).
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from jobsched.dispatch.budget_watch import stop_over_budget
from jobsched.dispatch.dispatcher import Dispatcher
from jobsched.dispatch.reconcile import sweep_outside_queue
from jobsched.dispatch.template_version import template_of
from jobsched.errors import NotFoundError
from jobsched.models import JobStatus, RunStatus, SlotLease, UnitKind
from jobsched.models.units import Claim, Outcome
from jobsched.ports import JobFilter, metrics

logger = logging.getLogger(__name__)


@dataclass
class SweepReport:
    recovered: list[str] = field(default_factory=list)  # the units declared lost
    over_budget: list[str] = field(default_factory=list)  # runs a stopping budget stopped
    kicked: bool = False


def sweep(dispatcher: Dispatcher, clock: Callable[[], float] = time.time) -> SweepReport:
    stores = dispatcher.stores
    report = SweepReport()
    now = clock()
    slots = stores.dispatch.slots()
    for slot in slots:
        if slot.holder and slot.lease_until < now:
            _recover(dispatcher, slot)
            report.recovered.append(slot.holder)
    # The stuck-run signal: a lease expires three heartbeat periods after the last beat, and
    # is recovered in the same sweep, so no stuck unit outlives a sweep unrecovered.
    stores.metrics.count(metrics.RUNS_RECOVERED, len(report.recovered))
    report.recovered += sweep_outside_queue(stores, dispatcher.config, now)
    live = [s for s in slots if s.holder and s.lease_until >= now]
    report.over_budget = stop_over_budget(stores, live)
    held = sum(1 for s in slots if s.holder and s.lease_until >= now)
    if held < dispatcher.config.slots and _work_waits(dispatcher, now):
        stores.kicker.kick()
        report.kicked = True
    stores.metrics.count(metrics.QUEUE_DEPTH, stores.jobs.count(JobStatus.QUEUED))
    return report


def _work_waits(dispatcher: Dispatcher, now: float) -> bool:
    entries = dispatcher.stores.queue.dispatch_head(1)
    return bool(entries) and (entries[0].not_before is None or entries[0].not_before <= now)


def _recover(dispatcher: Dispatcher, slot: SlotLease) -> None:
    assert slot.holder is not None
    logger.warning("slot %s: lease of %s expired; recovering it", slot.slot, slot.holder)
    claim = _claim_of(dispatcher, slot)
    if claim is None:  # the unit's record is gone: just free the slot
        dispatcher.release(slot.slot, slot.holder)
        return
    if claim.kind == UnitKind.GROUP:
        _recover_group_jobs(dispatcher, claim)
    else:
        dispatcher.stores.tasks.stop(claim.unit_id, "lost")
    dispatcher.finish(claim, _outcome_of(claim), claim_next=False)


def _claim_of(dispatcher: Dispatcher, slot: SlotLease) -> Claim | None:
    stores = dispatcher.stores
    holder = slot.holder
    assert holder is not None
    base = {"slot": slot.slot, "unit_id": holder, "holder": holder, "lease_until": 0.0}
    try:
        if slot.kind == UnitKind.RESERVATION:
            return Claim(
                kind=UnitKind.RESERVATION, reservation=stores.dispatch.reservation(holder), **base
            )
        if slot.kind == UnitKind.GROUP:
            return Claim(kind=UnitKind.GROUP, group=stores.groups.get(holder), **base)
        run = stores.runs.get(holder)
        job = stores.jobs.get(run.job_id)
        template = template_of(stores, job.template_id, job.template_version)
    except NotFoundError:
        return None
    return Claim(kind=UnitKind.JOB, run=run, job=job, template=template, **base)


def _outcome_of(claim: Claim) -> Outcome:
    """What the worker reported, if it did before the dispatcher was lost; else "lost"."""
    unit = claim.run or claim.reservation
    return (Outcome.reported(unit) if unit else None) or Outcome.lost()


def _recover_group_jobs(dispatcher: Dispatcher, group_claim: Claim) -> None:
    stores = dispatcher.stores
    cursor = None
    while True:
        page = stores.jobs.list_page(
            JobFilter(status=JobStatus.RUNNING, group_id=group_claim.unit_id), 100, cursor
        )
        for job in page.items:
            if job.last_run_id is None:
                continue
            run = stores.runs.get(job.last_run_id)
            if run.status != RunStatus.STARTED:
                continue
            stores.tasks.stop(run.run_id, "lost")
            claim = group_claim.model_copy(
                update={"kind": UnitKind.JOB, "unit_id": run.run_id, "run": run, "job": job}
            )
            dispatcher.finish_group_job(claim, _outcome_of(claim))
        cursor = page.next_cursor
        if cursor is None:
            return
