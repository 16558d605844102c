"""The worker contract (jobsched/worker_contract.py) held against both sides: the job image's
worker reads exactly its names and fills exactly its placeholders, and everything that starts a
worker (the local executor, the ECS overrides) or prepares its transactions (the DynamoDB
adapter) uses only those."""

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from worker import config, transact, workloads

from jobsched import worker_contract as contract
from jobsched.adapters.aws.overrides import WORKER_ENVIRONMENT, worker_environment
from jobsched.adapters.dynamodb.client import Dynamo
from jobsched.adapters.dynamodb.dispatch import DynamoDispatchStore
from jobsched.models import JobTemplate, UnitKind
from jobsched.models.units import OUTSIDE_QUEUE, Claim
from jobsched.settings import Settings
from local.exec.executor import ExecutorConfig, LocalExecutor

PLACEHOLDER = re.compile(r"^__[A-Z_]+__$")


class ReadNames(Mapping[str, str]):
    """An environment that remembers every name the worker asks for."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.asked: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        return self.values[name]

    def get(self, name: str, default: Any = None) -> Any:
        self.asked.add(name)
        return self.values.get(name, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def _claim(slot: str = "0") -> Claim:
    template = JobTemplate(template_id="echo", name="Echo", workload="echo")
    return Claim(
        slot=slot,
        kind=UnitKind.JOB,
        unit_id="run-1",
        holder="run-1",
        lease_until=0.0,
        template=template,
    )


def _placeholders(document: Any) -> set[str]:
    if isinstance(document, dict):
        return set().union(*(_placeholders(value) for value in document.values()))
    if isinstance(document, list):
        return set().union(*(_placeholders(value) for value in document))
    return {document} if isinstance(document, str) and PLACEHOLDER.match(document) else set()


def test_the_core_knows_exactly_the_workloads_the_image_runs() -> None:
    """A template's workload is checked against the core's list; the image's registry is the
    truth."""
    assert set(workloads.WORKLOADS) == contract.WORKLOADS


def test_the_worker_reads_exactly_the_contract_names() -> None:
    env = ReadNames({contract.ENV_WORKLOAD: "echo"})  # the one name without a default

    config.load(env)

    assert env.asked == contract.WORKER_READS


def test_the_worker_fills_exactly_the_contract_placeholders() -> None:
    filled = {
        transact.NOW,
        transact.LEASE_UNTIL,
        transact.EXIT_CODE,
        transact.ARTIFACTS,
        transact.USAGE,
    }
    assert filled == contract.PLACEHOLDERS


def test_the_prepared_transactions_hold_only_contract_placeholders() -> None:
    dispatch = DynamoDispatchStore(Dynamo(Settings(table_prefix="contract")))
    claim = _claim()

    found = _placeholders(dispatch.heartbeat_request(claim))
    found |= _placeholders(dispatch.result_request(claim))

    assert found == contract.PLACEHOLDERS


def test_the_ecs_overrides_and_the_local_executor_set_only_contract_names(tmp_path: Path) -> None:
    dispatch = DynamoDispatchStore(Dynamo(Settings(table_prefix="contract")))
    claim = _claim()
    executor = LocalExecutor(dispatch, ExecutorConfig(data_dir=tmp_path))

    ecs = worker_environment(claim, Settings(table_prefix="contract"), dispatch)
    local = {
        name
        for name in executor.environment(claim, tmp_path)
        if name.startswith("JOBSCHED_")
        or name in (contract.ENV_REGION, contract.ENV_DEFAULT_REGION)
    }

    assert set(WORKER_ENVIRONMENT) == set(ecs) <= contract.WORKER_READS
    assert local <= contract.WORKER_READS
    assert json.loads(ecs[contract.ENV_HEARTBEAT]) == dispatch.heartbeat_request(claim)


def test_the_core_fills_a_prepared_transaction_as_the_worker_does() -> None:
    """The worker's parent sends the worker's transactions itself (DynamoDB renew and
    record_result): its fill must give what the worker's gives."""
    dispatch = DynamoDispatchStore(Dynamo(Settings(table_prefix="contract")))
    values = {
        contract.NOW: "1800000000",
        contract.LEASE_UNTIL: "1800000090",
        contract.EXIT_CODE: "3",
        contract.ARTIFACTS: json.dumps(["file:///out/a.txt"]),
        contract.USAGE: json.dumps({"calls": 0}),
    }
    for slot in ("000", OUTSIDE_QUEUE):
        claim = _claim(slot)
        for request in (dispatch.heartbeat_request(claim), dispatch.result_request(claim)):
            assert contract.fill(request, values) == transact.fill(request, values)
            assert not _placeholders(contract.fill(request, values))
