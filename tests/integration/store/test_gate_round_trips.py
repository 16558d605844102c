"""Quality gates in both stores: a template's checks kept with each version, and a rejected run
with its failed checks, read back as written."""

import pytest

from jobsched.adapters.dynamodb import Dynamo
from jobsched.models import JobRun, JobTemplate, RunStatus
from jobsched.models.gates import FailedCheck
from jobsched.ports import RunFilter, Stores

SCHEMA = {"type": "object", "properties": {"score": {"type": "number", "minimum": 0.5}}}
CHECKS = [
    {"kind": "json_schema", "files": "stories/*.json", "schema": SCHEMA, "name": "shape"},
    {"kind": "count", "files": "stories/*.json", "min": 1},
    {"kind": "length", "files": "**/*.md", "unit": "words", "max": 5000},
    {"kind": "near_duplicate", "files": "cards/*.json", "threshold": 1.0, "against": "card"},
]
FAILED = [
    FailedCheck(index=1, kind="count", reason="0 files match stories/*.json", measured=0),
    FailedCheck(
        index=3,
        name="fresh",
        kind="near_duplicate",
        file="cards/crd_1.json",
        reason="cards/crd_1.json is 0.9375 similar to the stored card crd_2",
        measured=0.9375,
        bound="< 0.9",
    ),
]


def gated(version: int = 1, checks: list[dict[str, object]] | None = None) -> JobTemplate:
    return JobTemplate.model_validate(
        {
            "template_id": "gated",
            "name": "Gated",
            "workload": "echo",
            "checks": CHECKS if checks is None else checks,
            "version": version,
        }
    )


def test_a_templates_checks_are_kept_with_each_version(stores: Stores) -> None:
    first = gated()
    stores.templates.create(first)
    second = gated(2, CHECKS[1:2])
    stores.templates.replace(second, expected_version=1)

    assert stores.templates.get("gated").checks == second.checks
    assert stores.templates.get_version("gated", 1).checks == first.checks
    assert stores.templates.get_version("gated", 2).checks == second.checks
    assert stores.templates.list_page(10, None).items[0].checks == second.checks
    assert stores.templates.archive("gated").checks == second.checks


def test_a_template_without_checks_reads_back_with_none_listed(stores: Stores) -> None:
    stores.templates.create(gated(checks=[]))

    assert stores.templates.get("gated").checks == []


def test_a_rejected_run_keeps_its_failed_checks(stores: Stores) -> None:
    rejected = JobRun(
        run_id="run_rejected",
        job_id="job_1",
        template_id="gated",
        status=RunStatus.REJECTED,
        failed_checks=FAILED,
    )
    stores.runs.put(rejected)
    stores.runs.put(JobRun(run_id="run_failed", job_id="job_2", template_id="gated"))

    assert stores.runs.get("run_rejected") == rejected
    assert stores.runs.get("run_failed").failed_checks is None
    listed = stores.runs.list_page(RunFilter(status=RunStatus.REJECTED), 10, None).items
    assert listed == [rejected]
    assert stores.runs.count(RunStatus.REJECTED) == 1


@pytest.mark.dynamodb_only
def test_dynamodb_holds_the_checks_as_json_text(stores: Stores, dynamo: Dynamo) -> None:
    """A JSON Schema may nest deeper than the 32 levels a DynamoDB map takes, and hold keys
    a map cannot: the checks are one string attribute, as params_schema is."""
    stores.templates.create(gated())

    item = dynamo.client.get_item(
        TableName=dynamo.table("templates"), Key={"template_id": {"S": "gated"}}
    )["Item"]

    assert set(item["checks"]) == {"S"}
