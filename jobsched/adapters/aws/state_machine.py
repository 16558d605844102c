"""The dispatcher state machine's steps: parse what Step Functions hands a step, call the
dispatcher, and answer in the shape the next state reads (see infra/constructs/dispatcher.py).

Every claim step answers `{"kind": "idle"|"job"|"reservation"|"group", "claim": ..., "task":
..., "loops": n}`: `claim` is the Claim as JSON, `task` what the runTask.sync state starts (see
overrides.task_spec) or, for a group, `{"max_parallel": n}` (its max_parallel within
Settings.group_width; 0: no limit), and `loops` the tasks this execution has run, which the
state machine bounds before it hands over to a fresh one.
"""

import json
import logging
from dataclasses import replace
from typing import Any

from pydantic import BaseModel, ConfigDict

from jobsched.adapters.aws.ecs import (
    EcsTask,
    EcsTaskStopper,
    TaskFailure,
    log_stream_name,
    task_outcome,
)
from jobsched.adapters.aws.overrides import UnrunnableUnitError, task_spec
from jobsched.dispatch.dispatcher import Dispatcher
from jobsched.errors import NotFoundError
from jobsched.models import JobRun, Reservation, UnitKind
from jobsched.models.units import Claim, Outcome
from jobsched.models.usage import Usage
from jobsched.settings import Settings

logger = logging.getLogger(__name__)

IDLE = "idle"
SKIP = "skip"  # a group's job that is no longer queued (cancelled): the iteration ends

Answer = dict[str, Any]


class _Event(BaseModel):
    # Step Functions adds fields of its own (e.g. AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID).
    model_config = ConfigDict(extra="ignore")


class ClaimEvent(_Event):
    loops: int = 0


class FinishEvent(_Event):
    """A unit that ran: its claim, and the runTask.sync result or the error a Catch took."""

    claim: Claim
    loops: int = 0
    result: EcsTask | None = None
    error: TaskFailure | None = None


class GroupJobEvent(_Event):
    """One Map iteration over a running parallel group's job ids."""

    group_claim: Claim
    job_id: str


class StateMachineSteps:
    def __init__(self, dispatcher: Dispatcher, settings: Settings, tasks: EcsTaskStopper) -> None:
        self.dispatcher = dispatcher
        self.settings = settings
        self.tasks = tasks

    def claim(self, event: ClaimEvent) -> Answer:
        return self._answer(self.dispatcher.claim(), event.loops)

    def finish(self, event: FinishEvent) -> Answer:
        """End the unit and hand its slot to the next one in the same transaction."""
        outcome = self._outcome(event)
        logger.info(
            "finished %s %s",
            event.claim.kind,
            event.claim.unit_id,
            extra={"exit_code": outcome.exit_code, "error": outcome.error},
        )
        loops = event.loops + _tasks_run(event.claim)
        return self._answer(self.dispatcher.finish(event.claim, outcome), loops)

    def claim_group_job(self, event: GroupJobEvent) -> Answer:
        claim = self.dispatcher.claim_group_job(event.group_claim, event.job_id)
        if claim is None:
            return {"kind": SKIP}
        try:
            task = self._task(claim)
        except UnrunnableUnitError as exc:
            self.dispatcher.finish_group_job(claim, Outcome.unrunnable(str(exc)))
            return {"kind": SKIP}
        return {"kind": UnitKind.JOB.value, "claim": _json(claim), "task": task}

    def finish_group_job(self, event: FinishEvent) -> Answer:
        self.dispatcher.finish_group_job(event.claim, self._outcome(event))
        return {}

    def _answer(self, claim: Claim | None, loops: int) -> Answer:
        while claim is not None:
            if claim.kind == UnitKind.GROUP:
                max_parallel = claim.group.max_parallel if claim.group else None
                task: dict[str, Any] = {
                    "max_parallel": map_width(max_parallel, self.settings.group_width)
                }
            else:
                try:
                    task = self._task(claim)
                except UnrunnableUnitError as exc:
                    # Fail it now and pass the slot on: a task that cannot start would hold
                    # the slot until its lease ran out. Ends: each turn ends one attempt.
                    claim = self.dispatcher.finish(claim, Outcome.unrunnable(str(exc)))
                    continue
            logger.info("claimed %s %s", claim.kind, claim.unit_id, extra={"loops": loops})
            return {"kind": claim.kind.value, "claim": _json(claim), "task": task, "loops": loops}
        return {"kind": IDLE, "loops": loops}

    def _task(self, claim: Claim) -> dict[str, Any]:
        return task_spec(claim, self.settings, self.dispatcher.dispatch)

    def _outcome(self, event: FinishEvent) -> Outcome:
        if event.claim.kind == UnitKind.GROUP:
            return Outcome(exit_code=0)  # a group's outcome is counted from its jobs
        outcome = task_outcome(self.settings, event.result, event.error)
        if outcome.error == "timeout":
            # The task may outlive its state: stop it, and keep its log stream.
            arns = self.tasks.task_arns(event.claim.unit_id)
            self.tasks.stop_tasks(arns, "timeout")
            if arns:
                log_path = log_stream_name(self.settings, arns[0])
                outcome = Outcome(exit_code=None, error="timeout", log_path=log_path)
        if outcome.exit_code is not None:
            artifacts, usage = self._worker_report(event.claim)
            outcome = replace(outcome, artifacts=artifacts, usage=usage)
        return outcome

    def _worker_report(self, claim: Claim) -> tuple[list[str], Usage | None]:
        """The outputs the worker uploaded and what its model calls used, as it reported them
        on its unit at exit (ECS tells only the exit code). One consistent read; the report
        precedes the task's stop."""
        try:
            if claim.kind == UnitKind.RESERVATION:
                unit: JobRun | Reservation = self.dispatcher.dispatch.reservation(claim.unit_id)
            else:
                unit = self.dispatcher.stores.runs.get(claim.unit_id)
        except NotFoundError:
            return [], None
        usage = Usage.reported(unit.worker_usage)
        if usage is None and isinstance(unit, JobRun):
            # A run ended elsewhere (a cancel, a budget) refuses its worker's own report: what
            # it used is then what its last heartbeat said, which is no more than it used.
            usage = Usage.reported(unit.live_usage)
        return _reported_artifacts(claim, unit), usage


def _reported_artifacts(claim: Claim, unit: JobRun | Reservation) -> list[str]:
    if not unit.worker_artifacts:
        return []
    try:
        reported = json.loads(unit.worker_artifacts)
    except ValueError:
        logger.warning("unreadable artifacts reported by %s", claim.unit_id)
        return []
    return [str(uri) for uri in reported] if isinstance(reported, list) else []


def map_width(max_parallel: int | None, group_width: int | None) -> int:
    """A group's Map concurrency: its own max_parallel within the deployment's width (0, when
    neither is set: no limit)."""
    return min((n for n in (max_parallel, group_width) if n), default=0)


def _tasks_run(claim: Claim) -> int:
    """What a finished unit adds to `loops`: the tasks it ran (a group's Map ran one per job),
    a proxy for the history events it cost the execution."""
    if claim.kind == UnitKind.GROUP and claim.group is not None:
        return max(1, len(claim.group.job_ids))
    return 1


def _json(claim: Claim) -> dict[str, Any]:
    return claim.model_dump(mode="json")
