"""Lambda entry points of the dispatcher state machine's steps (infra/constructs/dispatcher.py).

Each parses its event, calls one step of jobsched.adapters.aws.state_machine and returns the
JSON the next state reads. The dispatcher is built once per container, on the first event.
Logs: the functions run with Lambda's JSON log format, so stdlib logging (with `extra=`) comes
out structured without a logging library at cold start.
"""

from functools import cache
from typing import TYPE_CHECKING, Any

from functions.metrics import flushed, reporting
from jobsched.settings import get_settings

if TYPE_CHECKING:
    from jobsched.adapters.aws.state_machine import StateMachineSteps

Event = dict[str, Any]


@cache
def steps() -> "StateMachineSteps":
    from jobsched.adapters.aws.state_machine import StateMachineSteps
    from jobsched.adapters.aws.wiring import state_machine_steps

    built = state_machine_steps(get_settings())
    return StateMachineSteps(reporting(built.dispatcher), built.settings, built.tasks)


@flushed
def claim(event: Event, context: object) -> Event:
    """Take a free slot and the next unit: `{"kind": "idle"}` or the unit and its task."""
    from jobsched.adapters.aws.state_machine import ClaimEvent

    return steps().claim(ClaimEvent.model_validate(event))


@flushed
def finish(event: Event, context: object) -> Event:
    """End the unit that ran (its task's result, or the error a Catch took) and claim the next."""
    from jobsched.adapters.aws.state_machine import FinishEvent

    return steps().finish(FinishEvent.model_validate(event))


@flushed
def claim_group_job(event: Event, context: object) -> Event:
    """Start one job of a running parallel group (one Map iteration)."""
    from jobsched.adapters.aws.state_machine import GroupJobEvent

    return steps().claim_group_job(GroupJobEvent.model_validate(event))


@flushed
def finish_group_job(event: Event, context: object) -> Event:
    """End one job of a parallel group; the group keeps its slot."""
    from jobsched.adapters.aws.state_machine import FinishEvent

    return steps().finish_group_job(FinishEvent.model_validate(event))
