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
    """Kicker: StartExecution of the dispatcher state machine.

    Idempotent per second (the execution name), and cheap when the dispatcher is busy: an
    execution that finds no free slot ends at once. Best effort by design: a kick that fails is
    logged, not raised, because the work it announces is already stored and the sweeper kicks
    the dispatcher within a minute whenever work waits behind a free slot.
    """

    def __init__(
        self,
        settings: Settings,
        client: "SFNClient | None" = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.clock = clock
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

        name = kick_name(self.clock())
        try:
            self.client.start_execution(stateMachineArn=arn, name=name, input=KICK_INPUT)
        except ClientError as exc:
            if error_code(exc) == "ExecutionAlreadyExists":
                return  # kicked this second already
            logger.exception("kick %s failed; the sweeper will kick again", name)
        except BotoCoreError:
            logger.exception("kick %s failed; the sweeper will kick again", name)
