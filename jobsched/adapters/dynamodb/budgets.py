"""Budget counters in the jobs table: `BUDGET#<counter>` / `BUDGET`, one item per budget
period holding its committed `tokens` and `micro_usd` (models/budgets.py). Like the usage
ledger's, the items carry none of the table's index attributes.

A claim's charge is an ADD of one unit under the condition "below each limit" (a condition
cannot add, so the unit is what makes two claims at a budget's edge exclusive); a run's end
adds what it used less that unit, with no condition: it is written whenever the end is.
"""

from collections.abc import Iterable, Sequence
from typing import Any

from jobsched import constants as c
from jobsched.adapters.dynamodb.client import Dynamo, store_errors
from jobsched.models.budgets import BudgetHold, BudgetSpend
from jobsched.models.usage import Usage

Item = dict[str, Any]


def budget_key(counter: str) -> Item:
    return {"pk": {"S": c.BUDGET_PK_PREFIX + counter}, "sk": {"S": c.BUDGET_SK}}


def charge_item(table: str, hold: BudgetHold, settled: tuple[int, int] = (0, 0)) -> Item:
    """The charge of one unit. `settled`: what a finishing unit's end adds to the same counter
    in the same transaction (a transaction touches an item once, so the two are one update:
    ADD both, under the condition that the counter after the settle is below the limit)."""
    tokens, micro_usd = settled
    limits = []
    values: dict[str, Any] = {
        ":add_tokens": {"N": str(tokens + 1)},
        ":add_micro": {"N": str(micro_usd + 1)},
    }
    if hold.tokens is not None:
        limits.append("(attribute_not_exists(tokens) OR tokens < :tokens)")
        values[":tokens"] = {"N": str(hold.tokens - tokens)}
    if hold.micro_usd is not None:
        limits.append("(attribute_not_exists(micro_usd) OR micro_usd < :micro)")
        values[":micro"] = {"N": str(hold.micro_usd - micro_usd)}
    return {
        "Update": {
            "TableName": table,
            "Key": budget_key(hold.counter),
            "UpdateExpression": "ADD tokens :add_tokens, micro_usd :add_micro",
            "ConditionExpression": " AND ".join(limits),
            "ExpressionAttributeValues": values,
        }
    }


def settlement(usage: Usage | None, charged: int) -> tuple[int, int]:
    """What a unit's end adds to each of its counters: its usage, less the unit it charged."""
    tokens = usage.total_tokens if usage is not None else 0
    micro_usd = usage.cost_micro_usd if usage is not None else 0
    return tokens - charged, micro_usd - charged


def settle_items(
    table: str, counters: Iterable[str], usage: Usage | None, charged: int
) -> list[Item]:
    """Add a unit's usage to its counters, less the `charged` unit its claim added."""
    tokens, micro_usd = settlement(usage, charged)
    return [
        {
            "Update": {
                "TableName": table,
                "Key": budget_key(counter),
                "UpdateExpression": "ADD tokens :tokens, micro_usd :micro",
                "ExpressionAttributeValues": {
                    ":tokens": {"N": str(tokens)},
                    ":micro": {"N": str(micro_usd)},
                },
            }
        }
        for counter in counters
        if tokens or micro_usd
    ]


def budget_spend(dynamo: Dynamo, table: str, counters: Sequence[str]) -> dict[str, BudgetSpend]:
    """Strongly consistent reads of the counters, one GetItem each: a unit is held to at most
    eight budgets (its template's and its schedule's), and the roles need no batch action."""
    spends: dict[str, BudgetSpend] = {}
    for counter in dict.fromkeys(counters):
        with store_errors():
            response: Any = dynamo.client.get_item(
                TableName=table, Key=budget_key(counter), ConsistentRead=True
            )
        item = response.get("Item")
        if item is not None:
            spends[counter] = BudgetSpend(
                tokens=int(item.get("tokens", {}).get("N", "0")),
                micro_usd=int(item.get("micro_usd", {}).get("N", "0")),
            )
    return spends
