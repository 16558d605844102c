"""Count DynamoDB round trips: AWS calls per job are a budget, so tests and benchmarks meter them.

A `CallMeter` hooks botocore's per-call events on one client while it is active. Each API call
fires `before-call` once (retries happen below it), so the counts are calls, not HTTP attempts.
"""

import json
from collections import Counter
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TRANSACTIONS = frozenset({"TransactWriteItems", "TransactGetItems"})
_CONTEXT_KEY = "jobsched_meter_call"  # where before-call leaves the call for after-call


@dataclass
class MeteredCall:
    operation: str
    params: dict[str, Any]  # the request as sent (decoded JSON body)
    items_returned: int | None = None  # items a read returned; None for writes and failures

    @property
    def transact_items(self) -> int:
        return len(self.params.get("TransactItems", ())) if self.operation in TRANSACTIONS else 0


@dataclass
class CallMeter:
    """Records every DynamoDB call of `client` made inside `with meter:`."""

    client: "DynamoDBClient"
    calls: list[MeteredCall] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._unique = f"jobsched-meter-{id(self)}"

    def __enter__(self) -> Self:
        events = self.client.meta.events
        events.register("before-call.dynamodb", self._before, unique_id=self._unique + "-before")
        events.register("after-call.dynamodb", self._after, unique_id=self._unique + "-after")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        events = self.client.meta.events
        events.unregister("before-call.dynamodb", unique_id=self._unique + "-before")
        events.unregister("after-call.dynamodb", unique_id=self._unique + "-after")

    def reset(self) -> None:
        self.calls.clear()

    @property
    def by_operation(self) -> Counter[str]:
        return Counter(call.operation for call in self.calls)

    @property
    def transact_items(self) -> int:
        return sum(call.transact_items for call in self.calls)

    @property
    def items_read(self) -> int:
        return sum(call.items_returned or 0 for call in self.calls)

    def of(self, operation: str) -> list[MeteredCall]:
        return [call for call in self.calls if call.operation == operation]

    def _before(
        self, model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        call = MeteredCall(model.name, _request_body(params))
        self.calls.append(call)
        context[_CONTEXT_KEY] = call

    def _after(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        call: MeteredCall | None = context.get(_CONTEXT_KEY)
        if call is None or "Error" in parsed:
            return
        call.items_returned = _items_in(call.operation, parsed)


def _request_body(request: dict[str, Any]) -> dict[str, Any]:
    # DynamoDB speaks JSON: the serialised body holds the parameters exactly as sent.
    body = request.get("body") or b"{}"
    decoded: dict[str, Any] = json.loads(body)
    return decoded


def _items_in(operation: str, response: dict[str, Any]) -> int | None:
    if operation == "GetItem":
        return 1 if "Item" in response else 0
    if "Count" in response:  # Query and Scan (with Select=COUNT too: the items it read)
        return int(response["Count"])
    if "Responses" in response:  # TransactGetItems / BatchGetItem
        responses = response["Responses"]
        if isinstance(responses, dict):
            return sum(len(items) for items in responses.values())
        return len(responses)
    return None
