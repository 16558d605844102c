"""The dispatcher's prepared DynamoDB transactions: fill in the placeholders, send, classify.

The dispatcher owns the schema: it hands the worker a TransactWriteItems request in low-level
form, with placeholder strings where only the worker knows the value. The worker never learns
table names or key shapes, so the image does not change when the store does.
"""

import enum
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from worker.aws import TransactWriter
from worker.usage import Usage

NOW = "__NOW__"
LEASE_UNTIL = "__LEASE_UNTIL__"
EXIT_CODE = "__EXIT_CODE__"
ARTIFACTS = "__ARTIFACTS__"
USAGE = "__USAGE__"  # the run's usage totals (worker.usage.Usage) as compact JSON text


def fill(template: Any, values: Mapping[str, str]) -> Any:
    """A copy of `template` in which every string equal to a placeholder holds its value."""
    if isinstance(template, dict):
        return {key: fill(item, values) for key, item in template.items()}
    if isinstance(template, list):
        return [fill(item, values) for item in template]
    if isinstance(template, str):
        return values.get(template, template)
    return template


def result_values(
    now: int, exit_code: int, artifacts: Sequence[str], usage: Usage
) -> dict[str, str]:
    return {
        NOW: str(now),
        EXIT_CODE: str(exit_code),
        ARTIFACTS: json.dumps(list(artifacts)),
        USAGE: json.dumps(usage, separators=(",", ":")),
    }


class Sent(enum.Enum):
    OK = "ok"
    ENDED = "ended"  # a condition failed: the run was ended elsewhere (cancelled, declared lost)
    FAILED = "failed"  # anything else (throttling, network, a bad template): try again later


@dataclass(frozen=True)
class Outcome:
    sent: Sent
    error: str = ""


def _condition_failed(exc: Exception) -> bool:
    response: dict[str, Any] = getattr(exc, "response", None) or {}
    error = response.get("Error") or {}
    if error.get("Code") != "TransactionCanceledException":
        return False
    reasons = response.get("CancellationReasons") or []
    if reasons:
        return any((reason or {}).get("Code") == "ConditionalCheckFailed" for reason in reasons)
    # Some emulators leave the reasons out of the body but keep them in the message.
    return "ConditionalCheckFailed" in str(error.get("Message", ""))


def send(
    connect: Callable[[], TransactWriter], template: Mapping[str, Any], values: Mapping[str, str]
) -> Outcome:
    """Send the filled-in request; never raises (the caller decides what a failure means).

    `connect` gives the client inside the guard, so failing to make one is a failure to send.
    """
    request = fill(template, values)
    try:
        connect().transact_write_items(TransactItems=request["TransactItems"])
    except Exception as exc:  # boto raises ClientError, BotoCoreError and socket errors alike
        sent = Sent.ENDED if _condition_failed(exc) else Sent.FAILED
        return Outcome(sent, f"{type(exc).__name__}: {exc}")
    return Outcome(Sent.OK)
