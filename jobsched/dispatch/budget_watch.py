"""Budgets that stop runs (on_exceed: stop): a run that crosses its budget while it runs is
stopped, checked by the sweeper (every minute on AWS, in the background locally).

A budget's counter holds what its ended runs used plus one unit per running run; a running
run's heartbeat says what it used so far (`live_usage`). A budget is crossed when the counter,
its running runs' units swapped for what they used so far, reaches the limit: then every run
holding it with on_exceed stop ends failed ("over budget: ..."), its job with it (a retry would
only wait for the next period), and its task is stopped. Runs that hold the budget with
hold_new run on; no new run starts either way.
"""

import logging
from dataclasses import dataclass, field

from jobsched.dispatch.dispatcher import end_running_job
from jobsched.errors import ConflictError, NotFoundError
from jobsched.models import JobRun, JobStatus, RunStatus, SlotLease, UnitKind
from jobsched.models.budgets import BudgetHold, BudgetSpend, OnExceed, describe
from jobsched.models.units import Outcome
from jobsched.models.usage import Usage
from jobsched.ports import Stores

logger = logging.getLogger(__name__)


@dataclass
class _Counter:
    hold: BudgetHold
    runs: list[JobRun] = field(default_factory=list)
    live_tokens: int = 0
    live_micro_usd: int = 0

    def add(self, run: JobRun, live: Usage | None) -> None:
        self.runs.append(run)
        self.live_tokens += live.total_tokens if live is not None else 0
        self.live_micro_usd += live.cost_micro_usd if live is not None else 0

    def estimate(self, committed: BudgetSpend) -> BudgetSpend:
        """The counter with each running run's unit replaced by what it used so far."""
        units = len(self.runs)
        return BudgetSpend(
            tokens=committed.tokens - units + self.live_tokens,
            micro_usd=committed.micro_usd - units + self.live_micro_usd,
        )


def stop_over_budget(stores: Stores, slots: list[SlotLease]) -> list[str]:
    """Stop the running runs whose stopping budget is crossed; the ids of those stopped. One
    run read per slot a job holds (its record says which budgets it charged), then the
    counters' reads only when one of those budgets stops runs."""
    counters = _stopping_counters(stores, slots)
    if not counters:
        return []
    spends = stores.dispatch.budget_spend(list(counters))
    stopped = []
    for counter, watched in counters.items():
        estimate = watched.estimate(spends.get(counter, BudgetSpend()))
        if not estimate.spent(watched.hold):
            continue
        why = describe(watched.hold, estimate)
        for run in watched.runs:
            if _stop(stores, run, why):
                stopped.append(run.run_id)
    return stopped


def _stopping_counters(stores: Stores, slots: list[SlotLease]) -> dict[str, _Counter]:
    counters: dict[str, _Counter] = {}
    for slot in slots:
        if slot.holder is None or slot.kind != UnitKind.JOB:
            continue  # a group's jobs run under its slot: not watched (docs/decisions.md)
        try:
            run = stores.runs.get(slot.holder)
        except NotFoundError:
            continue
        if run.status != RunStatus.STARTED:
            continue
        live = Usage.reported(run.live_usage)
        for hold in run.budget_holds:
            if hold.on_exceed == OnExceed.STOP:
                counters.setdefault(hold.counter, _Counter(hold)).add(run, live)
    return counters


def _stop(stores: Stores, run: JobRun, why: str) -> bool:
    """End the run and its job as the budget says, then stop its task; False when it ended
    meanwhile (its own end counted what it used)."""
    try:
        job = stores.jobs.get(run.job_id)
        if job.status != JobStatus.RUNNING or job.last_run_id != run.run_id:
            return False
        end_running_job(stores, job, Outcome.over_budget(why))
    except (ConflictError, NotFoundError):
        return False
    logger.warning("run %s stopped: %s", run.run_id, why)
    stores.tasks.stop(run.run_id, "over budget")
    return True
