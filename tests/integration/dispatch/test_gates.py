"""Quality gates in the dispatcher, on both stores (issue 17, point 4): a job's run whose
outputs fail its template's checks is `rejected`, with the failed checks on the run; it counts
as a failure for the retry policy and its group; its outputs are not indexed."""

import json
from typing import Any

import pytest
from pydantic import TypeAdapter

from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.gates.hook import QualityGate
from jobsched.jobs.groups import GroupCreate, GroupJobSpec, create_group
from jobsched.jobs.jobs import JobCreate, enqueue
from jobsched.jobs.queue import queue_stats
from jobsched.models import GroupMode, JobStatus, JobTemplate, RetryPolicy, RunStatus
from jobsched.models.gates import Checks
from jobsched.models.units import Claim, Outcome
from jobsched.ports import RunFilter, Stores
from jobsched.ports.artifacts import UnreadableArtifactError
from tests.support.dispatch import Clock

CHECKS: list[dict[str, Any]] = [
    {"kind": "count", "name": "three stories", "files": "stories/*.json", "min": 3},
    {
        "kind": "json_schema",
        "files": "stories/*.json",
        "schema": {"type": "object", "required": ["title"]},
    },
]


class Files:
    """An ArtifactReader over what the test says each run wrote."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def write(self, run_id: str, path: str, document: object) -> str:
        uri = f"mem://runs/{run_id}/{path}"
        self.data[uri] = json.dumps(document).encode()
        return uri

    def read(self, uri: str) -> bytes:
        if uri not in self.data:
            raise UnreadableArtifactError(f"no {uri}")
        return self.data[uri]


class Indexed:
    """An OutputIndexer that records what it was given."""

    def __init__(self) -> None:
        self.units: list[str] = []

    def index(self, claim: Claim, outcome: Outcome) -> dict[str, Any] | None:
        self.units.append(claim.unit_id)
        return None


@pytest.fixture
def files() -> Files:
    return Files()


@pytest.fixture
def indexed() -> Indexed:
    return Indexed()


@pytest.fixture
def gated(wired: Stores, files: Files, indexed: Indexed) -> Stores:
    checks = TypeAdapter(Checks).validate_python(CHECKS)
    wired.templates.create(
        JobTemplate(
            template_id="stories",
            name="Stories",
            workload="echo",
            retry=RetryPolicy(max_attempts=2, backoff_seconds=0, backoff_multiplier=1),
            checks=checks,
        )
    )
    gate = QualityGate(files, wired.content, lambda unit_id: f"mem://runs/{unit_id}/")
    return wired.with_gate(gate).with_indexer(indexed)


@pytest.fixture
def gated_dispatcher(gated: Stores, clock: Clock) -> Dispatcher:
    return Dispatcher(gated, gated.dispatch, DispatchConfig(slots=1), clock=clock)


def _outputs(files: Files, run_id: str, titles: list[str | None]) -> list[str]:
    return [
        files.write(run_id, f"stories/{i}.json", {"title": title} if title else {"text": "x"})
        for i, title in enumerate(titles)
    ]


def test_a_run_whose_outputs_fail_is_rejected_and_retried(
    gated_dispatcher: Dispatcher, gated: Stores, files: Files, indexed: Indexed
) -> None:
    job = enqueue(gated, JobCreate(template_id="stories"))[0]
    first = gated_dispatcher.claim()
    assert first is not None
    outputs = _outputs(files, first.unit_id, ["One", None])  # two stories, one untitled

    second = gated_dispatcher.finish(first, Outcome(exit_code=0, artifacts=outputs))

    rejected = gated.runs.get(first.unit_id)
    assert rejected.status == RunStatus.REJECTED
    assert rejected.exit_code == 0
    assert rejected.error is not None
    assert rejected.error.startswith("rejected: 2 checks failed")
    assert rejected.failed_checks is not None
    assert [(c.kind, c.name, c.file) for c in rejected.failed_checks] == [
        ("count", "three stories", None),
        ("json_schema", None, "stories/1.json"),
    ]
    assert indexed.units == []  # a rejected run's outputs are not indexed
    # Retried as a failure: the next attempt runs at once (no backoff), and passes.
    assert second is not None
    assert second.job is not None
    assert second.job.job_id == job.job_id
    assert second.run is not None
    assert second.run.attempt == 2
    good = _outputs(files, second.unit_id, ["One", "Two", "Three"])
    gated_dispatcher.finish(second, Outcome(exit_code=0, artifacts=good), claim_next=False)

    assert gated.runs.get(second.unit_id).status == RunStatus.COMPLETED
    assert gated.runs.get(second.unit_id).failed_checks is None
    assert gated.jobs.get(job.job_id).status == JobStatus.FINISHED
    assert indexed.units == [second.unit_id]
    rejected_runs = gated.runs.list_page(RunFilter(status=RunStatus.REJECTED), 10, None).items
    assert [run.run_id for run in rejected_runs] == [first.unit_id]
    assert queue_stats(gated).rejected_runs == 1


def test_a_failed_run_is_not_checked(
    gated_dispatcher: Dispatcher, gated: Stores, files: Files
) -> None:
    enqueue(gated, JobCreate(template_id="stories"))
    claim = gated_dispatcher.claim()
    assert claim is not None
    gated_dispatcher.finish(claim, Outcome(exit_code=3, artifacts=[]), claim_next=False)

    run = gated.runs.get(claim.unit_id)
    assert run.status == RunStatus.FAILED
    assert run.failed_checks is None


def test_a_template_without_checks_is_not_gated(
    gated_dispatcher: Dispatcher, gated: Stores, template: str
) -> None:
    enqueue(gated, JobCreate(template_id=template))
    claim = gated_dispatcher.claim()
    assert claim is not None
    gated_dispatcher.finish(claim, Outcome(exit_code=0), claim_next=False)
    assert gated.runs.get(claim.unit_id).status == RunStatus.COMPLETED


def test_a_rejected_job_counts_as_failed_in_its_group(
    gated_dispatcher: Dispatcher, gated: Stores, files: Files
) -> None:
    group, *_ = create_group(
        gated,
        GroupCreate(
            mode=GroupMode.SEQUENTIAL,
            jobs=[GroupJobSpec(template_id="stories"), GroupJobSpec(template_id="stories")],
        ),
    )
    claim = gated_dispatcher.claim()
    for _ in range(2):  # both attempts of the first job are rejected
        assert claim is not None
        outputs = _outputs(files, claim.unit_id, ["Only one"])
        claim = gated_dispatcher.finish(claim, Outcome(exit_code=0, artifacts=outputs))

    assert gated.groups.get(group.group_id).failed == 1


def test_a_run_that_monitor_ends_from_its_workers_report_is_gated_too(
    gated_dispatcher: Dispatcher, gated: Stores, files: Files
) -> None:
    from jobsched.dispatch.reconcile import monitor

    enqueue(gated, JobCreate(template_id="stories"))
    claim = gated_dispatcher.claim()  # claimed, then its dispatcher was lost
    assert claim is not None
    assert claim.run is not None
    outputs = _outputs(files, claim.unit_id, ["One"])
    reported = {"worker_exit_code": 0, "worker_artifacts": json.dumps(outputs)}
    gated.runs.put(claim.run.model_copy(update=reported))

    report = monitor(gated.with_probe(_NothingRuns()), grace_seconds=0)

    assert [change.now for change in report.changed] == ["rejected"]
    run = gated.runs.get(claim.unit_id)
    assert run.status == RunStatus.REJECTED
    assert run.failed_checks is not None
    assert [check.name for check in run.failed_checks] == ["three stories"]


class _NothingRuns:
    def running_units(self) -> set[str] | None:
        return set()
