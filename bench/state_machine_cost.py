"""What a job costs on AWS, measured by running the dispatcher state machine that infra/
synthesises under moto's Step Functions interpreter (the world of the AWS tests:
tests/support/aws_world.py): state transitions, step Lambda calls, executions started and
DynamoDB calls per job, on an idle queue (each job enqueued while nothing runs) and a busy one
(jobs enqueued while another runs), with the kick that reads the slots first (ours) and, as the
baseline of the same run, the kick that always starts an execution.

The API call that enqueues a job (one API Lambda invocation) is not in these figures: it is the
same either way. ECS tasks take about 2.5 s each here (moto's task states advance by
time), so that jobs enqueued one a second find the dispatcher busy.
"""

import contextlib
import io
import logging
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.client import BaseClient

from jobsched.adapters.aws import StepFunctionsKicker
from jobsched.dispatch.dispatcher import free_slots
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.jobs.templates import TemplateCreate, create_template
from jobsched.ports import Stores
from tests.support.aws_world import World, moto_world
from tests.support.stack import synthesised

IDLE_JOBS = 4
BUSY_JOBS = 10
TASK_STATE_SECONDS = 0.5  # moto's ECS task passes 4 states to STOPPED: about 2.5 s a task
ENDED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


@dataclass
class Tally:
    """Calls counted while a scenario runs, by who made them."""

    dynamodb: Counter[str]
    lambdas: int = 0
    start_executions: int = 0


class Meter:
    """Counts DynamoDB calls by caller (the API side: the thread that enqueues; the step
    Lambdas; the worker's report) and the step Lambdas moto invokes."""

    def __init__(self) -> None:
        self.tally = Tally(Counter())
        self._lock = threading.Lock()
        self._local = threading.local()
        self._api = threading.get_ident()

    def caller(self) -> str | None:
        if getattr(self._local, "watching", False):
            return None  # the benchmark's own polling
        if getattr(self._local, "in_lambda", False):
            return "dispatcher"
        return "api" if threading.get_ident() == self._api else "worker"

    def count_call(self, service: str, operation: str) -> None:
        caller = self.caller()
        if caller is None:
            return
        with self._lock:
            if service == "dynamodb":
                self.tally.dynamodb[caller] += 1
            elif service == "stepfunctions" and operation == "StartExecution":
                self.tally.start_executions += 1

    @contextmanager
    def in_lambda(self) -> Iterator[None]:
        with self._lock:
            self.tally.lambdas += 1
        self._local.in_lambda = True
        try:
            yield
        finally:
            self._local.in_lambda = False

    @contextmanager
    def watching(self) -> Iterator[None]:
        """Calls made to watch the world, not by the system: not counted."""
        self._local.watching = True
        try:
            yield
        finally:
            self._local.watching = False

    def reset(self) -> Tally:
        with self._lock:
            tally, self.tally = self.tally, Tally(Counter())
        return tally


def _metered(meter: Meter, monkeypatch: pytest.MonkeyPatch) -> None:
    original = BaseClient._make_api_call  # type: ignore[attr-defined]  # where every call goes

    def call(self: BaseClient, operation: str, params: Any) -> Any:
        meter.count_call(self.meta.service_model.service_name, operation)
        return original(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", call)
    from moto.awslambda_simple.models import LambdaSimpleBackend

    invoke = LambdaSimpleBackend.invoke  # the world's in-process handlers

    def invoked(self: Any, *args: Any, **kwargs: Any) -> Any:
        with meter.in_lambda():
            return invoke(self, *args, **kwargs)

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoked)


@dataclass(frozen=True)
class Cost:
    jobs: int
    transitions: int
    lambdas: int
    executions: int
    dynamodb: Counter[str]

    def per_job(self, value: float) -> str:
        return f"{value / self.jobs:6.2f}"


class Scenario:
    def __init__(self, world: World, meter: Meter, checks_slots: bool) -> None:
        self.world = world
        self.meter = meter
        slots = (
            (lambda: bool(free_slots(world.stores.dispatch, world.settings.slots)))
            if checks_slots
            else None
        )
        self.api: Stores = world.stores.with_edges(
            kicker=StepFunctionsKicker(world.settings, slot_free=slots), tasks=world.stores.tasks
        )
        self._seen: set[str] = {e["executionArn"] for e in world.executions()}

    def enqueue(self) -> None:
        enqueue(self.api, JobCreate(template_id="echo"))

    def idle(self, jobs: int) -> Cost:
        def arrivals() -> None:
            for _ in range(jobs):
                self._one_then_wait()

        return self._measure(jobs, arrivals)

    def busy(self, jobs: int) -> Cost:
        def arrivals() -> None:
            self.enqueue()
            with self.meter.watching():
                _until(lambda: any(s.holder for s in self.world.stores.dispatch.slots()))
            for _ in range(jobs - 1):  # one a second, faster than they run: always busy
                time.sleep(1.05)  # a kick per second at most (its execution's name)
                self.enqueue()
            self._wait_all()

        return self._measure(jobs, arrivals)

    def _one_then_wait(self) -> None:
        time.sleep(1.05)  # a kick per second at most (its execution's name): a later second
        self.enqueue()
        self._wait_all()

    def _measure(self, jobs: int, run: Callable[[], object]) -> Cost:
        self.meter.reset()
        run()
        tally = self.meter.reset()
        with self.meter.watching():
            new = [e for e in self.world.executions() if e["executionArn"] not in self._seen]
            transitions = sum(_transitions(self.world, e["executionArn"]) for e in new)
        self._seen |= {e["executionArn"] for e in new}
        return Cost(
            jobs=jobs,
            transitions=transitions,
            lambdas=tally.lambdas,
            executions=len(new),
            dynamodb=tally.dynamodb,
        )

    def _wait_all(self) -> None:
        def settled() -> bool:
            queue_empty = not self.world.stores.queue.dispatch_head(1)
            running = [e for e in self.world.executions() if e["status"] not in ENDED]
            return queue_empty and not running

        with self.meter.watching():
            _until(settled)
            time.sleep(0.3)  # a hand-over's new execution may just be starting
            _until(settled)


def _transitions(world: World, execution_arn: str) -> int:
    """State transitions as Step Functions bills them: one per state entered (Map
    iterations' states included)."""
    events: list[dict[str, Any]] = []
    token: dict[str, str] = {}
    while True:
        page = world.sfn.get_execution_history(executionArn=execution_arn, **token)
        events += page["events"]
        if not page.get("nextToken"):
            break
        token = {"nextToken": page["nextToken"]}
    return sum(1 for e in events if e["type"].endswith("StateEntered"))


def _until(condition: Callable[[], bool], bound: float = 120.0) -> None:
    deadline = time.monotonic() + bound
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {bound} s")
        time.sleep(0.05)


def _row(label: str, cost: Cost) -> str:
    api = cost.dynamodb["api"]
    dispatcher = cost.dynamodb["dispatcher"]
    worker = cost.dynamodb["worker"]
    return (
        f"  {label:<26} {cost.per_job(cost.transitions)} {cost.per_job(cost.lambdas)} "
        f"{cost.per_job(cost.executions)} {cost.per_job(api)} {cost.per_job(dispatcher)} "
        f"{cost.per_job(worker)}"
    )


def measure() -> dict[tuple[str, bool], Cost]:
    costs: dict[tuple[str, bool], Cost] = {}
    with tempfile.TemporaryDirectory() as outdir, pytest.MonkeyPatch.context() as monkeypatch:
        stack = synthesised(outdir)
        with moto_world(stack, monkeypatch) as world:
            from moto.moto_api import state_manager

            state_manager.set_transition(
                "ecs::task", {"progression": "time", "seconds": TASK_STATE_SECONDS}
            )
            meter = Meter()
            _metered(meter, monkeypatch)
            create_template(
                world.stores, TemplateCreate(template_id="echo", name="Echo", workload="echo")
            )
            for checks_slots in (False, True):
                scenario = Scenario(world, meter, checks_slots)
                costs["idle", checks_slots] = scenario.idle(IDLE_JOBS)
                costs["busy", checks_slots] = scenario.busy(BUSY_JOBS)
    return costs


def main() -> None:
    # moto's interpreter logs each Choice's test of an absent path (Resume?: no claim in the
    # input) as an error before it takes the other branch.
    logging.getLogger("moto.stepfunctions.parser.asl.component.eval_component").disabled = True
    with contextlib.redirect_stdout(io.StringIO()):  # the metrics' EMF lines
        costs = measure()
    print("Cost per job on AWS: the synthesised state machine under moto's interpreter")
    print(f"  (idle: {IDLE_JOBS} jobs, each enqueued when nothing runs; busy: {BUSY_JOBS} jobs,")
    print("  one a second, while earlier ones run. Per job; DynamoDB calls by caller.)")
    print(
        f"  {'':<26} {'trans.':>6} {'Lambda':>6} {'execs':>6} {'DDB api':>7} "
        f"{'DDB disp':>8} {'DDB wkr':>7}"
    )
    labels = {False: "kick always (baseline)", True: "kick if a slot is free"}
    for queue in ("idle", "busy"):
        for checks_slots, label in labels.items():
            print(_row(f"{queue}: {label}", costs[queue, checks_slots]))
    for queue in ("idle", "busy"):
        before, after = costs[queue, False], costs[queue, True]
        ratio = (after.transitions / after.jobs) / (before.transitions / before.jobs)
        print(f"  {queue} queue: transitions per job {ratio:.2f}x the baseline's")


if __name__ == "__main__":
    main()
