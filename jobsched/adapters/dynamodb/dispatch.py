"""Slots, reservations and the atomic commit of dispatch steps.

Lock table items (pk / sk): `SLOT` / `<nnn>` one per slot; `QUEUE` / `STATE` the pause flag;
`RESERVATION#<id>` / `RESERVATION` a reservation; `CONCURRENCY#<counter>` / `CONCURRENCY` a
concurrency key's counter, its `holders` a string set of run ids. Each step becomes one to
three transaction items (AcquireKeys and ReleaseKeys one per key); a cancelled transaction's
reasons name the item, and so the step, that failed.
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from jobsched import constants as c
from jobsched import worker_contract as contract
from jobsched.adapters.dynamodb.budgets import (
    budget_spend,
    charge_item,
    settle_items,
    settlement,
)
from jobsched.adapters.dynamodb.client import (
    Dynamo,
    cancellation_codes,
    error_code,
    is_condition_failure,
    store_errors,
)
from jobsched.adapters.dynamodb.codec import decode, encode, serialize, serialize_map, sort_time
from jobsched.adapters.dynamodb.groups import KIND as GROUP_KIND
from jobsched.adapters.dynamodb.idempotency import claim_put
from jobsched.adapters.dynamodb.jobs import (
    entry_item,
    entry_of,
    job_item,
    job_key,
    queue_item,
    queue_key,
)
from jobsched.adapters.dynamodb.runs import run_expiry, run_item
from jobsched.adapters.dynamodb.usage import usage_updates
from jobsched.errors import IdempotencyKeyTakenError, NotFoundError, UnavailableError
from jobsched.models import (
    GroupStatus,
    JobStatus,
    QueueEntry,
    Reservation,
    ReservationStatus,
    RunStatus,
    SlotLease,
    UnitKind,
    utcnow,
)
from jobsched.models import steps as s
from jobsched.models.budgets import BudgetSpend
from jobsched.models.idempotency import IdempotencyClaim
from jobsched.models.units import OUTSIDE_QUEUE, Claim
from jobsched.models.usage import Usage
from jobsched.ranks import QueueRank

SLOT_PK = "SLOT"
RESERVATION_PK_PREFIX = "RESERVATION#"
RESERVATION_SK = "RESERVATION"
OPEN_GROUP = {":open0": GroupStatus.QUEUED.value, ":open1": GroupStatus.RUNNING.value}
CONFLICT_RETRIES = 3

Item = dict[str, Any]


def slot_key(slot: str) -> Item:
    return {"pk": {"S": SLOT_PK}, "sk": {"S": slot}}


def counter_key(counter: str) -> Item:
    return {"pk": {"S": c.CONCURRENCY_PK_PREFIX + counter}, "sk": {"S": c.CONCURRENCY_SK}}


def reservation_key(reservation_id: str) -> Item:
    return {"pk": {"S": RESERVATION_PK_PREFIX + reservation_id}, "sk": {"S": RESERVATION_SK}}


def _time(value: Any) -> Item:
    return serialize(value.isoformat() if hasattr(value, "isoformat") else value)


def _update(
    table: str,
    key: Item,
    expression: str,
    values: dict[str, Any],
    condition: str | None = None,
    names: dict[str, str] | None = None,
) -> Item:
    update: Item = {
        "TableName": table,
        "Key": key,
        "UpdateExpression": expression,
        # None becomes NULL here (a SET of a field that has no value).
        "ExpressionAttributeValues": {name: serialize(value) for name, value in values.items()},
    }
    if condition:
        update["ConditionExpression"] = condition
    if names:
        update["ExpressionAttributeNames"] = names
    if not update["ExpressionAttributeValues"]:
        del update["ExpressionAttributeValues"]
    return {"Update": update}


class DynamoDispatchStore:
    def __init__(self, dynamo: Dynamo) -> None:
        self.dynamo = dynamo
        self.jobs = dynamo.table("jobs")
        self.runs = dynamo.table("runs")
        self.groups = dynamo.table("groups")
        self.lock = dynamo.table("lock")
        self._builders: dict[type, Callable[[Any], list[Item]]] = {
            s.TakeSlot: self._take_slot,
            s.ReleaseSlot: self._release_slot,
            s.CheckSlotHolder: self._check_slot_holder,
            s.CheckNotPaused: self._check_not_paused,
            s.StartJob: self._start_job,
            s.AcquireKeys: self._acquire_keys,
            s.ReleaseKeys: self._release_keys,
            s.ChargeBudget: lambda step: [charge_item(self.jobs, step.hold)],
            s.StartOutsideQueue: self._start_outside_queue,
            s.RecordIdempotencyKey: lambda step: [claim_put(self.jobs, step.claim)],
            s.CreateGroup: self._create_group,
            s.GroupTurn: self._group_turn,
            s.StartGroup: self._start_group,
            s.StartReservation: self._start_reservation,
            s.EndRun: self._end_run,
            s.EndJob: self._end_job,
            s.RequeueJob: self._requeue_job,
            s.EndReservation: self._end_reservation,
            s.CountGroupJob: self._count_group_job,
            s.EndGroup: self._end_group,
        }

    # --- reads ------------------------------------------------------------------------------

    def slots(self) -> list[SlotLease]:
        with store_errors():
            response = self.dynamo.client.query(
                TableName=self.lock,
                KeyConditionExpression="pk = :slot",
                ExpressionAttributeValues={":slot": {"S": SLOT_PK}},
                ConsistentRead=True,
            )
        return [
            decode(SlotLease, {**item, "slot": item["sk"]}) for item in response.get("Items", [])
        ]

    def entry(self, unit_id: str) -> QueueEntry | None:
        with store_errors():
            response = self.dynamo.client.get_item(
                TableName=self.jobs, Key=queue_key(unit_id), ConsistentRead=True
            )
        item = response.get("Item")
        return entry_of(item) if item else None

    def reservation(self, reservation_id: str) -> Reservation:
        with store_errors():
            response = self.dynamo.client.get_item(
                TableName=self.lock, Key=reservation_key(reservation_id), ConsistentRead=True
            )
        if "Item" not in response:
            raise NotFoundError(f"no reservation {reservation_id!r}")
        return decode(Reservation, response["Item"])

    def budget_spend(self, counters: Sequence[str]) -> dict[str, BudgetSpend]:
        return budget_spend(self.dynamo, self.jobs, counters)

    # --- writes -----------------------------------------------------------------------------

    def insert_reservation(
        self, reservation: Reservation, rank: QueueRank, idempotency: IdempotencyClaim | None = None
    ) -> None:
        entry = QueueEntry(
            job_id=reservation.reservation_id,
            rank=rank.key,
            kind=UnitKind.RESERVATION,
            template_id=reservation.template_id,
            priority=rank.priority,
            created_at=reservation.created_at,
        )
        item = {**encode(reservation), **reservation_key(reservation.reservation_id)}
        actions: list[Item] = [
            {"Put": {"TableName": self.lock, "Item": item}},
            {"Put": {"TableName": self.jobs, "Item": entry_item(entry)}},
        ]
        if idempotency:
            actions.append(claim_put(self.jobs, idempotency))
        try:
            with store_errors():
                self.dynamo.client.transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
        except Exception as exc:
            if idempotency and is_condition_failure(exc):  # the key's item holds the only one
                raise IdempotencyKeyTakenError("the Idempotency-Key was used already") from exc
            raise

    def record_pid(self, claim: Claim, pid: int) -> None:
        """Best effort: a run that ended meanwhile keeps no pid."""
        if claim.kind != UnitKind.JOB:
            return
        try:
            with store_errors():
                self.dynamo.client.update_item(
                    TableName=self.runs,
                    Key={"run_id": {"S": claim.unit_id}},
                    UpdateExpression="SET pid = :pid",
                    ConditionExpression="#status = :started",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues={
                        ":pid": {"N": str(pid)},
                        ":started": {"S": RunStatus.STARTED.value},
                    },
                )
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise

    def extend_lease(self, slot: str, holder: str, until: float) -> bool:
        try:
            with store_errors():
                self.dynamo.client.update_item(
                    TableName=self.lock,
                    Key=slot_key(slot),
                    UpdateExpression="SET lease_until = :until",
                    ConditionExpression="holder = :holder",
                    ExpressionAttributeValues=serialize_map({":until": until, ":holder": holder}),
                )
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def commit(self, steps: Sequence[s.Step]) -> None:
        items: list[Item] = []
        owners: list[s.Step] = []
        for step, (built_from, settled) in zip(steps, _merged_settles(steps), strict=True):
            if isinstance(built_from, s.ChargeBudget) and settled is not None:
                built = [charge_item(self.jobs, built_from.hold, settled)]
            else:
                built = self._builders[type(built_from)](built_from)
            items += built
            owners += [step] * len(built)  # the step as the caller gave it: its failure's name
        items, owners = _merge_group_updates(items, owners)
        for attempt in range(CONFLICT_RETRIES):
            try:
                self.dynamo.client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
                return
            except Exception as exc:
                codes = cancellation_codes(exc)
                if "ConditionalCheckFailed" in codes:
                    raise s.StepFailedError(
                        owners[codes.index("ConditionalCheckFailed")], steps
                    ) from exc
                busy = "TransactionConflict" in codes or error_code(exc) in (
                    "TransactionConflictException",
                    "ProvisionedThroughputExceededException",
                    "ThrottlingException",
                )
                if not busy:
                    raise
                if attempt == CONFLICT_RETRIES - 1:
                    raise UnavailableError("dispatch is contended; retry") from exc

    # --- step -> transaction items ---------------------------------------------------------

    def _take_slot(self, step: s.TakeSlot) -> list[Item]:
        values: dict[str, Any] = {
            ":holder": step.holder,
            ":kind": step.kind.value,
            ":lease": step.lease_until,
            ":taken": utcnow().isoformat(),
        }
        if step.expected_holder is None:
            condition = "attribute_not_exists(holder)"
        else:
            condition = "holder = :expected"
            values[":expected"] = step.expected_holder
        return [
            _update(
                self.lock,
                slot_key(step.slot),
                "SET holder = :holder, kind = :kind, lease_until = :lease, taken_at = :taken",
                values,
                condition,
            )
        ]

    def _release_slot(self, step: s.ReleaseSlot) -> list[Item]:
        return [
            _update(
                self.lock,
                slot_key(step.slot),
                "REMOVE holder, kind SET lease_until = :zero",
                {":zero": 0, ":holder": step.holder},
                "holder = :holder",
            )
        ]

    def _check_slot_holder(self, step: s.CheckSlotHolder) -> list[Item]:
        return [
            {
                "ConditionCheck": {
                    "TableName": self.lock,
                    "Key": slot_key(step.slot),
                    "ConditionExpression": "holder = :holder",
                    "ExpressionAttributeValues": {":holder": {"S": step.holder}},
                }
            }
        ]

    def _check_not_paused(self, _: s.CheckNotPaused) -> list[Item]:
        return [
            {
                "ConditionCheck": {
                    "TableName": self.lock,
                    "Key": {"pk": {"S": c.QUEUE_STATE_PK}, "sk": {"S": c.QUEUE_STATE_SK}},
                    "ConditionExpression": "attribute_not_exists(paused) OR paused = :false",
                    "ExpressionAttributeValues": {":false": {"BOOL": False}},
                }
            }
        ]

    def _leave_queue(self, unit_id: str) -> Item:
        """The unit's queue place goes; it must still be there (not cancelled, not claimed)."""
        return {
            "Delete": {
                "TableName": self.jobs,
                "Key": queue_key(unit_id),
                "ConditionExpression": "attribute_exists(pk)",
            }
        }

    def _start_job(self, step: s.StartJob) -> list[Item]:
        run = step.run
        return [
            self._leave_queue(step.entry.job_id),
            _update(
                self.jobs,
                job_key(step.entry.job_id),
                "SET #status = :running, attempt = :attempt, last_run_id = :run, "
                "updated_at = :now REMOVE #rank, not_before",
                {
                    ":running": JobStatus.RUNNING.value,
                    ":queued": JobStatus.QUEUED.value,
                    ":attempt": run.attempt,
                    ":run": run.run_id,
                    ":now": run.started_at.isoformat(),
                },
                "#status = :queued",
                {"#status": "status", "#rank": "rank"},
            ),
            {
                "Put": {
                    "TableName": self.runs,
                    "Item": run_item(run),
                    "ConditionExpression": "attribute_not_exists(run_id)",
                }
            },
        ]

    def _acquire_keys(self, step: s.AcquireKeys) -> list[Item]:
        """One update per counter: the run joins its holders while they are fewer than the
        limit (an emptied set is removed by DynamoDB, hence attribute_not_exists)."""
        return [
            _update(
                self.lock,
                counter_key(key.counter),
                "ADD holders :run",
                {":run": {step.run_id}, ":limit": key.limit},
                "attribute_not_exists(holders) OR size(holders) < :limit",
            )
            for key in step.keys
        ]

    def _release_keys(self, step: s.ReleaseKeys) -> list[Item]:
        return [
            _update(self.lock, counter_key(counter), "DELETE holders :run", {":run": {step.run_id}})
            for counter in step.counters
        ]

    def _start_outside_queue(self, step: s.StartOutsideQueue) -> list[Item]:
        return [
            {
                "Put": {
                    "TableName": self.jobs,
                    "Item": job_item(step.job),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Put": {
                    "TableName": self.runs,
                    "Item": run_item(step.run),
                    "ConditionExpression": "attribute_not_exists(run_id)",
                }
            },
        ]

    def _create_group(self, step: s.CreateGroup) -> list[Item]:
        group = step.group
        item = encode(group, kind=GROUP_KIND, created_key=sort_time(group.created_at))
        return [
            {
                "Put": {
                    "TableName": self.groups,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(group_id)",
                }
            }
        ]

    def _group_turn(self, step: s.GroupTurn) -> list[Item]:
        return [
            _update(
                self.groups,
                {"group_id": {"S": step.group_id}},
                "SET #status = :running, started_at = if_not_exists(started_at, :now)",
                {
                    ":running": GroupStatus.RUNNING.value,
                    ":index": step.index,
                    ":now": step.started_at.isoformat(),
                    **OPEN_GROUP,
                },
                "next_index = :index AND #status IN (:open0, :open1)",
                {"#status": "status"},
            )
        ]

    def _start_group(self, step: s.StartGroup) -> list[Item]:
        return [
            _update(
                self.groups,
                {"group_id": {"S": step.group_id}},
                "SET #status = :running, started_at = :now",
                {
                    ":running": GroupStatus.RUNNING.value,
                    ":queued": GroupStatus.QUEUED.value,
                    ":now": step.started_at.isoformat(),
                },
                # a held group does not start (jobsched/jobs/holds.py)
                "#status = :queued AND attribute_not_exists(#hold)",
                {"#status": "status", "#hold": "hold"},
            )
        ]

    def _start_reservation(self, step: s.StartReservation) -> list[Item]:
        return [
            self._leave_queue(step.entry.job_id),
            _update(
                self.lock,
                reservation_key(step.entry.job_id),
                "SET #status = :running, started_at = :now, slot = :slot",
                {
                    ":running": ReservationStatus.RUNNING.value,
                    ":pending": ReservationStatus.PENDING.value,
                    ":now": step.started_at.isoformat(),
                    ":slot": step.slot,
                },
                "#status = :pending",
                {"#status": "status"},
            ),
        ]

    def _end_run(self, step: s.EndRun) -> list[Item]:
        values: dict[str, Any] = {
            ":status": step.status.value,
            ":started": RunStatus.STARTED.value,
            ":now": step.finished_at.isoformat(),
            ":exit": step.exit_code,
            ":error": step.error,
            ":artifacts": step.artifacts,
            ":log": step.log_path,
            ":usage": step.usage.model_dump() if step.usage is not None else None,
            ":checks": [check.model_dump(mode="json") for check in step.failed_checks]
            if step.failed_checks is not None
            else None,
        }
        expression = (
            "SET #status = :status, finished_at = :now, exit_code = :exit, #error = :error, "
            "artifacts = :artifacts, log_path = :log, #usage = :usage, failed_checks = :checks"
        )
        expires_at = run_expiry(self.dynamo.settings, step.finished_at)
        if expires_at is not None:  # only an ending run gets one: a running run never expires
            expression += ", expires_at = :expires"
            values[":expires"] = expires_at
        ledger: list[Item] = []
        if step.usage is not None:
            ledger = usage_updates(
                self.jobs, step.usage, step.template_id, step.schedule_id, step.finished_at
            )
        ledger += settle_items(self.jobs, step.budgets, step.usage, charged=1)
        return [
            _update(
                self.runs,
                {"run_id": {"S": step.run_id}},
                expression,
                values,
                "#status = :started",
                {"#status": "status", "#error": "error", "#usage": "usage"},
            ),
            *ledger,
        ]

    def _end_job(self, step: s.EndJob) -> list[Item]:
        return [
            _update(
                self.jobs,
                job_key(step.job_id),
                "SET #status = :status, finished_at = :now, updated_at = :now",
                {
                    ":status": step.status.value,
                    ":running": JobStatus.RUNNING.value,
                    ":run": step.run_id,
                    ":now": step.finished_at.isoformat(),
                },
                "#status = :running AND last_run_id = :run",
                {"#status": "status"},
            )
        ]

    def _requeue_job(self, step: s.RequeueJob) -> list[Item]:
        job = step.job.model_copy(update={"rank": step.rank.key, "status": JobStatus.QUEUED})
        return [
            _update(
                self.jobs,
                job_key(job.job_id),
                "SET #status = :queued, #rank = :rank, not_before = :not_before, updated_at = :now",
                {
                    ":queued": JobStatus.QUEUED.value,
                    ":running": JobStatus.RUNNING.value,
                    ":run": step.run_id,
                    ":rank": step.rank.key,
                    ":not_before": step.not_before,
                    ":now": utcnow().isoformat(),
                },
                "#status = :running AND last_run_id = :run",
                {"#status": "status", "#rank": "rank"},
            ),
            {
                "Put": {
                    "TableName": self.jobs,
                    "Item": queue_item(job, step.rank, not_before=step.not_before),
                }
            },
        ]

    def _end_reservation(self, step: s.EndReservation) -> list[Item]:
        result = json.dumps(step.result) if step.result is not None else None
        ledger: list[Item] = []
        if step.usage is not None and step.template_id:
            ledger = usage_updates(self.jobs, step.usage, step.template_id, None, step.finished_at)
        ledger += settle_items(self.jobs, step.budgets, step.usage, charged=0)
        return [
            _update(
                self.lock,
                reservation_key(step.reservation_id),
                "SET #status = :status, finished_at = :now, exit_code = :exit, #error = :error, "
                "artifacts = :artifacts, log_path = :log, #result = :result, #usage = :usage",
                {
                    ":status": step.status.value,
                    ":running": ReservationStatus.RUNNING.value,
                    ":now": step.finished_at.isoformat(),
                    ":exit": step.exit_code,
                    ":error": step.error,
                    ":artifacts": step.artifacts,
                    ":log": step.log_path,
                    ":result": result,
                    ":usage": step.usage.model_dump() if step.usage is not None else None,
                },
                "#status = :running",
                {"#status": "status", "#error": "error", "#result": "result", "#usage": "usage"},
            ),
            *ledger,
        ]

    def _count_group_job(self, step: s.CountGroupJob) -> list[Item]:
        counter = "completed" if step.succeeded else "failed"
        values: dict[str, Any] = {":one": 1}
        expression = f"ADD {counter} :one"
        condition = None
        if step.turn is not None:
            expression += " SET next_index = :next"
            values |= {":turn": step.turn, ":next": step.turn + 1}
            condition = "next_index = :turn"
        return [
            _update(self.groups, {"group_id": {"S": step.group_id}}, expression, values, condition)
        ]

    def _end_group(self, step: s.EndGroup) -> list[Item]:
        return [
            _update(
                self.groups,
                {"group_id": {"S": step.group_id}},
                "SET #status = :status, finished_at = :now",
                {
                    ":status": step.status.value,
                    ":now": step.finished_at.isoformat(),
                    **OPEN_GROUP,
                },
                "#status IN (:open0, :open1)",
                {"#status": "status"},
            )
        ]

    # --- what the worker sends --------------------------------------------------------------

    def heartbeat_request(self, claim: Claim) -> dict[str, Any]:
        # With what the run used so far (a budget that stops runs reads it; the sweeper).
        unit = self._unit_update(
            claim,
            "SET heartbeat_at = :hb, live_usage = :so_far",
            {":hb": {"N": contract.NOW}, ":so_far": {"S": contract.USAGE}},
        )
        if claim.slot == OUTSIDE_QUEUE:  # no slot to keep: the run's heartbeat is its lease
            return {"TransactItems": [unit]}
        slot = {
            "Update": {
                "TableName": self.lock,
                "Key": slot_key(claim.slot),
                "UpdateExpression": "SET lease_until = :lease",
                "ConditionExpression": "holder = :holder",
                "ExpressionAttributeValues": {
                    ":lease": {"N": contract.LEASE_UNTIL},
                    ":holder": {"S": claim.holder},
                },
            }
        }
        return {"TransactItems": [unit, slot]}

    def result_request(self, claim: Claim) -> dict[str, Any]:
        unit = self._unit_update(
            claim,
            "SET worker_exit_code = :exit, worker_artifacts = :artifacts, worker_usage = :usage",
            {
                ":exit": {"N": contract.EXIT_CODE},
                ":artifacts": {"S": contract.ARTIFACTS},
                ":usage": {"S": contract.USAGE},
            },
        )
        return {"TransactItems": [unit]}

    def renew(
        self, claim: Claim, now: float, lease_until: float, usage: Usage | None = None
    ) -> bool:
        """The heartbeat transaction, sent by the worker's parent instead of the worker."""
        values = {
            contract.NOW: str(now),
            contract.LEASE_UNTIL: str(lease_until),
            contract.USAGE: usage.model_dump_json() if usage is not None else "",
        }
        return self._send_for_worker(self.heartbeat_request(claim), values)

    def record_result(
        self, claim: Claim, exit_code: int, artifacts: list[str], usage: Usage | None = None
    ) -> bool:
        """The result transaction, sent by the worker's parent instead of the worker."""
        values = {
            contract.EXIT_CODE: str(exit_code),
            contract.ARTIFACTS: json.dumps(artifacts),
            contract.USAGE: usage.model_dump_json() if usage is not None else "",
        }
        return self._send_for_worker(self.result_request(claim), values)

    def _send_for_worker(self, request: dict[str, Any], values: dict[str, str]) -> bool:
        """Fill in the placeholders as the worker does and send; False when a condition failed
        (the unit ended elsewhere, or its slot is another's): nothing was written."""
        filled = contract.fill(request, values)
        try:
            with store_errors():
                self.dynamo.client.transact_write_items(TransactItems=filled["TransactItems"])
        except Exception as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def _unit_update(self, claim: Claim, expression: str, values: dict[str, Any]) -> Item:
        if claim.kind == UnitKind.RESERVATION:
            table, key = self.lock, reservation_key(claim.unit_id)
            live = ReservationStatus.RUNNING.value
        else:
            table, key = self.runs, {"run_id": {"S": claim.unit_id}}
            live = RunStatus.STARTED.value
        return {
            "Update": {
                "TableName": table,
                "Key": key,
                "UpdateExpression": expression,
                "ConditionExpression": "#status = :live",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {**values, ":live": {"S": live}},
            }
        }


def _merged_settles(steps: Sequence[s.Step]) -> list[tuple[s.Step, tuple[int, int] | None]]:
    """Each step as it is built. A finishing unit's end settles its budget counters, and the
    next claim in the same commit may charge one of them (the next job of the template): a
    transaction touches an item once, so that settle is left to the charge, which gets it (one
    update of the counter, one write per job as without budgets)."""
    settles: dict[str, tuple[int, int]] = {}
    for step in steps:
        if isinstance(step, s.EndRun | s.EndReservation):
            charged = 1 if isinstance(step, s.EndRun) else 0  # a reservation charged none
            settles.update(dict.fromkeys(step.budgets, settlement(step.usage, charged)))
    charges = {step.hold.counter for step in steps if isinstance(step, s.ChargeBudget)}
    merged = settles.keys() & charges
    built: list[tuple[s.Step, tuple[int, int] | None]] = []
    for step in steps:
        if isinstance(step, s.EndRun | s.EndReservation) and merged & set(step.budgets):
            left = tuple(counter for counter in step.budgets if counter not in merged)
            built.append((replace(step, budgets=left), None))
        elif isinstance(step, s.ChargeBudget) and step.hold.counter in merged:
            built.append((step, settles[step.hold.counter]))
        else:
            built.append((step, None))
    return built


def _merge_group_updates(
    items: list[Item], owners: list[s.Step]
) -> tuple[list[Item], list[s.Step]]:
    """A sequential group's last job counts itself and ends the group: one item, one update
    (a transaction may not touch an item twice)."""
    merged_items: list[Item] = []
    merged_owners: list[s.Step] = []
    for item, owner in zip(items, owners, strict=True):
        previous = merged_items[-1] if merged_items else None
        if (
            isinstance(owner, s.EndGroup)
            and previous is not None
            and isinstance(merged_owners[-1], s.CountGroupJob)
            and merged_owners[-1].group_id == owner.group_id
        ):
            merged_items[-1] = _combine(previous, item)
            continue
        merged_items.append(item)
        merged_owners.append(owner)
    return merged_items, merged_owners


def _combine(count: Item, end: Item) -> Item:
    a, b = count["Update"], end["Update"]
    add_part, _, set_part = a["UpdateExpression"].partition(" SET ")
    sets = ", ".join(
        part for part in (set_part, b["UpdateExpression"].removeprefix("SET ")) if part
    )
    conditions = [c for c in (a.get("ConditionExpression"), b.get("ConditionExpression")) if c]
    return {
        "Update": {
            "TableName": a["TableName"],
            "Key": a["Key"],
            "UpdateExpression": f"{add_part} SET {sets}",
            "ConditionExpression": " AND ".join(f"({c})" for c in conditions),
            "ExpressionAttributeNames": {
                **a.get("ExpressionAttributeNames", {}),
                **b.get("ExpressionAttributeNames", {}),
            },
            "ExpressionAttributeValues": {
                **a["ExpressionAttributeValues"],
                **b["ExpressionAttributeValues"],
            },
        }
    }
