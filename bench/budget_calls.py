"""What budgets cost the dispatcher: DynamoDB calls, transaction items and items read per job
(claim + finish), for a template with no budget (the baseline, measured in the same run), one
with a budget, and a scheduled job held to its template's and its schedule's budgets; then
what a pass over a job whose budget is spent costs (the claim that finds it held), and the
sweeper's check of a running run held to a stopping budget.

moto, in process: the figures are calls and items, which are DynamoDB's; moto's times are not.
"""

import time
from dataclasses import dataclass

from bench.store_calls import aligned, moto_queue
from jobsched.adapters.dynamodb.metering import CallMeter
from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.dispatch.sweeper import sweep
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.models import JobTemplate, Schedule
from jobsched.models.budgets import Budget, BudgetPeriod, OnExceed
from jobsched.models.units import Outcome
from jobsched.models.usage import Usage

JOBS = 20  # per case: the first claims fill the caches (templates, schedules) once
USED = Usage(calls=1, prompt_tokens=100, completion_tokens=50, cost_usd=0.001)


@dataclass(frozen=True)
class Figures:
    calls: float
    transact_items: float
    items_read: float


def _per_job(meter: CallMeter, jobs: int) -> Figures:
    return Figures(len(meter.calls) / jobs, meter.transact_items / jobs, meter.items_read / jobs)


def measure() -> dict[str, Figures]:
    figures: dict[str, Figures] = {}
    with moto_queue() as queue:
        stores = queue.stores
        day = Budget(period=BudgetPeriod.DAY, tokens=10**12)
        month = Budget(period=BudgetPeriod.MONTH, usd=10**6, on_exceed=OnExceed.STOP)
        stores.templates.create(
            JobTemplate(template_id="capped", name="c", workload="echo", budgets=[day])
        )
        stores.schedules.create(
            Schedule(
                schedule_id="sch_capped",
                name="s",
                template_id="capped",
                expression="rate(1 hour)",
                budgets=[month],
            )
        )
        cases = {
            "no budget (baseline)": JobCreate(template_id="bench"),
            "template budget": JobCreate(template_id="capped"),
            "template + schedule budgets": JobCreate(
                template_id="capped", schedule_id="sch_capped"
            ),
        }
        dispatcher = Dispatcher(stores, stores.dispatch, DispatchConfig(slots=1))
        for name, request in cases.items():
            for _ in range(JOBS):
                enqueue(stores, request)
            claim = dispatcher.claim()  # warms the caches; not counted
            assert claim is not None
            with CallMeter(queue.dynamo.client) as meter:
                for _ in range(JOBS - 1):
                    assert claim is not None
                    claim = dispatcher.finish(claim, Outcome(exit_code=0, usage=USED))
                assert claim is not None
                dispatcher.finish(claim, Outcome(exit_code=0, usage=USED), claim_next=False)
            figures[name] = _per_job(meter, JOBS - 1)

        # A spent budget: its job heads the queue, and a claim finds it held.
        spent = Budget(period=BudgetPeriod.DAY, tokens=1)
        stores.templates.create(
            JobTemplate(template_id="spent", name="s", workload="echo", budgets=[spent])
        )
        enqueue(stores, JobCreate(template_id="spent"))
        first = dispatcher.claim()
        assert first is not None
        dispatcher.finish(first, Outcome(exit_code=0, usage=USED), claim_next=False)
        enqueue(stores, JobCreate(template_id="spent"))
        with CallMeter(queue.dynamo.client) as meter:
            assert dispatcher.claim() is None
        figures["a claim that finds the head held"] = _per_job(meter, 1)

        # The sweeper's budget check: one running run under a stopping budget.
        enqueue(stores, JobCreate(template_id="capped", schedule_id="sch_capped"))
        assert dispatcher.claim() is not None
        with CallMeter(queue.dynamo.client) as meter:
            sweep(dispatcher, time.time)
        figures["a sweep, one run under a stopping budget"] = _per_job(meter, 1)
    return figures


def render(figures: dict[str, Figures]) -> str:
    base = figures["no budget (baseline)"]
    rows = [["case", "calls/job", "tx items/job", "items read/job", "tx items vs baseline"]]
    for name, f in figures.items():
        ratio = f"{f.transact_items / base.transact_items:.2f}x" if base.transact_items else "-"
        rows.append(
            [name, f"{f.calls:.2f}", f"{f.transact_items:.2f}", f"{f.items_read:.2f}", ratio]
        )
    return aligned(rows)


def main() -> None:
    print(f"Budgets: DynamoDB calls per job (claim + finish, {JOBS - 1} jobs a case), moto")
    print(render(measure()))


if __name__ == "__main__":
    main()
