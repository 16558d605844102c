"""A template's quality gates as declared: the check kinds, their bounds, their globs and the
field errors a bad one gets (jobsched/models/gates.py)."""

import re
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from jobsched.models import JobRun, JobTemplate, RunStatus
from jobsched.models.gates import (
    MAX_CHECKS,
    Checks,
    CountCheck,
    FailedCheck,
    GateVerdict,
    JsonSchemaCheck,
    glob_regex,
)


class Holder(BaseModel):
    checks: Checks = []


def problems(checks: list[dict[str, Any]]) -> dict[str, str]:
    """Each failing field (as the API names it) and its message."""
    with pytest.raises(ValidationError) as caught:
        Holder.model_validate({"checks": checks})
    return {".".join(str(part) for part in e["loc"]): e["msg"] for e in caught.value.errors()}


def matches(glob: str, path: str) -> bool:
    return re.search(glob_regex(glob), path) is not None


def test_every_kind_is_taken_and_told_apart_by_its_kind() -> None:
    held = Holder.model_validate(
        {
            "checks": [
                {"kind": "json_schema", "files": "stories/*.json", "schema": {"type": "object"}},
                {"kind": "count", "files": "stories/*.json", "min": 1, "max": 5, "name": "some"},
                {"kind": "length", "files": "*.txt", "unit": "words", "min": 10},
                {"kind": "length", "files": "stories/*.json", "field": "text", "max": 9000},
                {"kind": "near_duplicate", "files": "stories/*.json", "threshold": 0.8},
            ]
        }
    )

    assert [check.kind for check in held.checks] == [
        "json_schema",
        "count",
        "length",
        "length",
        "near_duplicate",
    ]
    assert isinstance(held.checks[0], JsonSchemaCheck)
    assert held.checks[0].json_schema == {"type": "object"}
    assert isinstance(held.checks[1], CountCheck)
    assert held.checks[1].name == "some"


def test_a_json_schema_check_is_stored_and_shown_with_its_schema_key() -> None:
    template = JobTemplate(
        template_id="t",
        name="T",
        workload="echo",
        checks=[{"kind": "json_schema", "files": "*.json", "schema": {"required": ["a"]}}],
    )

    dumped = template.model_dump()["checks"][0]
    assert dumped["schema"] == {"required": ["a"]}
    assert "json_schema" not in dumped
    assert JobTemplate.model_validate_json(template.model_dump_json()) == template


def test_errors_name_the_field_without_the_kind_in_between() -> None:
    found = problems(
        [
            {"kind": "count", "files": "a/*.json", "min": 3, "max": 2},
            {"kind": "length", "files": "/abs/*.txt", "min": 1},
            {"kind": "near_duplicate", "files": "*.json", "threshold": 1.5},
        ]
    )

    assert found.keys() == {"checks.0.max", "checks.1.files", "checks.2.threshold"}
    assert "below min 3" in found["checks.0.max"]
    assert "relative to the run's output folder" in found["checks.1.files"]


def test_a_bounded_check_needs_a_bound() -> None:
    found = problems([{"kind": "count", "files": "*.json"}])

    assert found == {"checks.0": "Value error, needs min, max or both"}


@pytest.mark.parametrize("threshold", [0, -0.1, 1.01, "0.5", True])
def test_a_threshold_is_a_number_in_0_to_1(threshold: object) -> None:
    found = problems([{"kind": "near_duplicate", "files": "*.json", "threshold": threshold}])

    assert list(found) == ["checks.0.threshold"]


def test_bounds_are_whole_non_negative_numbers_as_sent() -> None:
    found = problems(
        [
            {"kind": "count", "files": "*", "min": -1},
            {"kind": "count", "files": "*", "max": "3"},
            {"kind": "length", "files": "*", "max": 2.5},
        ]
    )

    assert found.keys() == {"checks.0.min", "checks.1.max", "checks.2.max"}


def test_an_unknown_or_missing_kind_and_unknown_fields_are_refused() -> None:
    found = problems(
        [
            {"kind": "regex", "files": "*"},
            {"files": "*", "min": 1},
            {"kind": "count", "files": "*", "min": 1, "mni": 2},
            {"kind": "json_schema", "files": "*", "json_schema": {}},
        ]
    )

    assert "does not match any of the expected tags" in found["checks.0"]
    assert "Unable to extract tag" in found["checks.1"]
    assert found["checks.2.mni"] == "Extra inputs are not permitted"
    assert found["checks.3.schema"] == "Field required"


def test_at_most_max_checks() -> None:
    check = {"kind": "count", "files": "*", "min": 0}

    Holder.model_validate({"checks": [check] * MAX_CHECKS})
    assert list(problems([check] * (MAX_CHECKS + 1))) == ["checks"]


@pytest.mark.parametrize(
    ("glob", "why"),
    [
        ("", "at least 1 character"),
        ("/stories/*.json", "starts with /"),
        ("stories//*.json", "empty, . or .."),
        ("../x.json", "empty, . or .."),
        ("stories/", "empty, . or .."),
        ("a**b/x", "** must be a whole folder"),
        ("stories/[ab.json", "never closed"),
        ("stories/x].json", "a ] with no ["),
        ("stories/[z-a].json", "start is after its end"),
        ("stories\\*.json", "backslash"),
    ],
)
def test_a_bad_glob_is_refused_with_why(glob: str, why: str) -> None:
    found = problems([{"kind": "count", "files": glob, "min": 1}])

    assert why in found["checks.0.files"]


def test_a_dotted_field_path_has_no_empty_part() -> None:
    found = problems(
        [
            {"kind": "length", "files": "*", "field": "a..b", "max": 1},
            {"kind": "near_duplicate", "files": "*", "field": ".text", "threshold": 0.5},
            {"kind": "length", "files": "*", "field": ".".join("a" * 17), "max": 1},
        ]
    )

    assert found.keys() == {"checks.0.field", "checks.1.field", "checks.2.field"}


@pytest.mark.parametrize(
    ("glob", "path", "matched"),
    [
        ("stories/*.json", "stories/sty_1.json", True),
        ("stories/*.json", "stories/deep/sty_1.json", False),  # * stays within a folder
        ("stories/*.json", "other/stories/sty_1.json", False),  # relative to the output folder
        ("*.json", "stories/sty_1.json", False),
        ("**/*.json", "sty_1.json", True),  # ** spans no folder too
        ("**/*.json", "a/b/c/sty_1.json", True),
        ("stories/**", "stories/a/b.txt", True),
        ("stories/**", "stories", False),
        ("**", "anything/at/all", True),
        ("report-?.md", "report-1.md", True),
        ("report-?.md", "report-12.md", False),
        ("part-[0-9].txt", "part-7.txt", True),
        ("part-[!0-9].txt", "part-7.txt", False),
        ("part-[!0-9].txt", "part-x.txt", True),
        ("a+b(1).txt", "a+b(1).txt", True),  # regex characters are literal
        ("a.txt", "abtxt", False),
        ("[[]x[]].txt", "[x].txt", True),  # a class of one is a literal [ or ]
    ],
)
def test_glob_semantics(glob: str, path: str, matched: bool) -> None:
    assert matches(glob, path) is matched


def test_a_rejected_run_keeps_its_failed_checks() -> None:
    failure = FailedCheck(
        index=1, kind="count", reason="0 files match stories/*.json", measured=0, bound=">= 1"
    )
    run = JobRun(
        run_id="run_1",
        job_id="job_1",
        template_id="t",
        status=RunStatus.REJECTED,
        failed_checks=[failure],
    )

    assert RunStatus("REJECTED") is RunStatus.REJECTED
    assert JobRun.model_validate_json(run.model_dump_json()) == run


def test_a_verdict_passes_only_without_failures_listed_or_counted() -> None:
    failure = FailedCheck(index=0, kind="count", reason="r")

    assert GateVerdict().passed
    assert not GateVerdict(failed=[failure]).passed
    assert not GateVerdict(unlisted=1).passed
