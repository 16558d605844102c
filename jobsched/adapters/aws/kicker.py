"""Waking the dispatcher on AWS: start an execution of the dispatcher state machine."""

import json
import logging
import time
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

from jobsched.adapters.aws.clients import client_options, error_code
from jobsched.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

logger = logging.getLogger(__name__)

# What a fresh execution starts from: nothing claimed yet, no loops run.
KICK_INPUT = json.dumps({"loops": 0})


def kick_name(now: float) -> str:
    """One execution name per second: kicks within the same second start one execution."""
    return f"kick-{int(now)}"


class StepFunctionsKicker:
    """Kicker: StartExecution of the dispatcher state machine, when a slot is free.

    With every slot held the dispatcher is busy and takes the work itself when a unit
    finishes, so the kick asks first (`slot_free`, one strongly consistent read) and starts no
    execution: 4 transitions and a Lambda call saved per enqueue on a busy queue. The work was
    committed before that read, and a finish that releases its slot reads the queue again
    (Dispatcher._arrived_since), so either the kick sees the slot free or the finish sees the
    work. Idempotent per second (the execution name). Best effort by design: a kick that fails
    is logged, not raised, because the work it announces is already stored and the sweeper
    kicks the dispatcher within a minute whenever work waits behind a free slot.
    """

    def __init__(
        self,
        settings: Settings,
        client: "SFNClient | None" = None,
        clock: Callable[[], float] = time.time,
        slot_free: Callable[[], bool] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.slot_free = slot_free
        if client is not None:
            self.__dict__["client"] = client

    @cached_property
    def client(self) -> "SFNClient":
        import boto3

        return boto3.client("stepfunctions", **client_options(self.settings))

    def kick(self) -> None:
        arn = self.settings.state_machine_arn
        if not arn:
            logger.warning("no JOBSCHED_STATE_MACHINE_ARN: the dispatcher cannot be woken")
            return
        from botocore.exceptions import BotoCoreError, ClientError

        if not self._may_be_idle():
            return
        name = kick_name(self.clock())
        try:
            self.client.start_execution(stateMachineArn=arn, name=name, input=KICK_INPUT)
        except ClientError as exc:
            if error_code(exc) == "ExecutionAlreadyExists":
                return  # kicked this second already
            logger.exception("kick %s failed; the sweeper will kick again", name)
        except BotoCoreError:
            logger.exception("kick %s failed; the sweeper will kick again", name)

    def _may_be_idle(self) -> bool:
        if self.slot_free is None:
            return True
        try:
            return self.slot_free()
        except Exception:  # cannot tell: kick, as a kick that finds no slot ends at once
            logger.warning("could not read the slots; kicking anyway", exc_info=True)
            return True
