"""Store round trips per job lifecycle (enqueue -> claim -> finish): the budget is 3 on a busy
queue, where a finishing job hands its slot to the next in the same transaction."""

from jobsched.adapters.dynamodb import Dynamo
from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.models import JobTemplate
from jobsched.models.budgets import Budget, BudgetPeriod
from jobsched.models.concurrency import ConcurrencyLimit
from jobsched.models.units import Outcome
from jobsched.models.usage import Usage
from jobsched.ports import Stores
from tests.support.aws_calls import CallMeter

JOBS = 20


def test_a_busy_queue_costs_three_round_trips_per_job(
    dispatcher: Dispatcher, wired: Stores, template: str, dynamo: Dynamo
) -> None:
    wired.templates.get(template)  # a warm process: the template is cached
    with CallMeter(dynamo.client) as enqueues:
        for _ in range(JOBS):
            enqueue(wired, JobCreate(template_id=template))
    first = dispatcher.claim()  # the first claim of a burst reads the slots too
    with CallMeter(dynamo.client) as dispatching:
        claim = first
        while claim is not None:
            claim = dispatcher.finish(claim, Outcome(exit_code=0))
    assert enqueues.by_operation == {"TransactWriteItems": JOBS}
    # finish of job n + claim of job n+1: one head query and one transaction; the last finish
    # finds the queue empty (one query), frees the slot (one transaction) and reads the head
    # once more (work enqueued meanwhile saw the slot held, so it did not kick).
    assert dispatching.by_operation == {"Query": JOBS + 1, "TransactWriteItems": JOBS}
    per_job = (len(enqueues.calls) + len(dispatching.calls)) / JOBS
    assert per_job == 3 + 1 / JOBS


def test_an_idle_dispatcher_reads_two_items_and_writes_nothing(
    dispatcher: Dispatcher, dynamo: Dynamo
) -> None:
    with CallMeter(dynamo.client) as meter:
        assert dispatcher.claim() is None
    assert meter.by_operation == {"Query": 2}  # the slots, the queue's head


def _per_customer(stores: Stores) -> str:
    stores.templates.create(
        JobTemplate(
            template_id="keyed",
            name="Keyed",
            workload="echo",
            params_schema={"type": "object", "properties": {"customer": {"type": "string"}}},
            concurrency=[ConcurrencyLimit(key="params.customer", limit=1)],
        )
    )
    return "keyed"


def test_keyed_jobs_cost_what_unkeyed_ones_do_unless_the_next_shares_the_key(
    dispatcher: Dispatcher, wired: Stores, dynamo: Dynamo
) -> None:
    """Keys are resolved at enqueue and ride on the queue place: the claim reads nothing more.
    A handover to a job of the same key value records the end first (one transaction may not
    touch the counter twice): one more transaction per job on such a queue."""
    template = _per_customer(wired)
    wired.templates.get(template)
    for customers in ([f"c{n}" for n in range(JOBS)], ["same"] * JOBS):
        for customer in customers:
            enqueue(wired, JobCreate(template_id=template, params={"customer": customer}))
        claim = dispatcher.claim()
        with CallMeter(dynamo.client) as dispatching:
            while claim is not None:
                claim = dispatcher.finish(claim, Outcome(exit_code=0))
        handovers = JOBS - 1
        writes = JOBS if customers[0] == "c0" else JOBS + handovers
        assert dispatching.by_operation == {"Query": JOBS + 1, "TransactWriteItems": writes}


def test_a_claim_passing_over_blocked_jobs_tries_one_of_each_key(
    wired: Stores, dynamo: Dynamo
) -> None:
    """A window of jobs behind a full key costs one failed transaction for the key, not one
    per job: the others holding the same key are passed over without a write."""
    template = _per_customer(wired)
    for customer in ["acme"] * 6 + ["globex"]:
        enqueue(wired, JobCreate(template_id=template, params={"customer": customer}))
    dispatcher = Dispatcher(wired, wired.dispatch, DispatchConfig(slots=2))
    assert dispatcher.claim() is not None  # the first acme job
    with CallMeter(dynamo.client) as meter:
        claim = dispatcher.claim()
    assert claim is not None
    assert claim.job is not None
    assert claim.job.params == {"customer": "globex"}
    # slots, head; one cancelled transaction (acme's key is full), one that takes globex
    assert meter.by_operation == {"Query": 2, "TransactWriteItems": 2}


def test_budgeted_jobs_cost_what_others_do_their_settle_and_charge_one_update(
    dispatcher: Dispatcher, wired: Stores, dynamo: Dynamo
) -> None:
    budget = Budget(period=BudgetPeriod.DAY, tokens=10**9, usd=1000)
    wired.templates.create(
        JobTemplate(template_id="capped", name="Capped", workload="echo", budgets=[budget])
    )
    wired.templates.get("capped")
    for _ in range(JOBS):
        enqueue(wired, JobCreate(template_id="capped"))
    first = dispatcher.claim()
    used = Usage(calls=1, prompt_tokens=100, cost_usd=0.5)
    with CallMeter(dynamo.client) as dispatching:
        claim = first
        while claim is not None:
            claim = dispatcher.finish(claim, Outcome(exit_code=0, usage=used))
    assert dispatching.by_operation == {"Query": JOBS + 1, "TransactWriteItems": JOBS}
    [hold] = first.run.budget_holds if first and first.run else []
    spent = wired.dispatch.budget_spend([hold.counter])[hold.counter]
    assert (spent.tokens, spent.micro_usd) == (JOBS * 100, JOBS * 500_000)
