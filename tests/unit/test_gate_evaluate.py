"""Evaluating a template's quality gates on one run's outputs (jobsched/gates): every check kind
passing and failing, files that cannot be measured, the bounds of the work, and the paths
that globs are matched against."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import TypeAdapter

from jobsched.content.similarity import sketch
from jobsched.errors import UnavailableError
from jobsched.gates import evaluate
from jobsched.gates.outputs import (
    NotMeasurableError,
    Output,
    OutputFiles,
    relative_path,
    run_outputs,
)
from jobsched.models.content import ContentKind, Story, compared_text
from jobsched.models.gates import Check, FailedCheck, GateVerdict
from jobsched.ports.artifacts import ArtifactTooLargeError, UnreadableArtifactError
from tests.support.content_samples import (
    LIGHTHOUSE,
    LIGHTHOUSE_AUTOMATED,
    VOLCANO_STORY,
    story_data,
)

ROOT = "file:///data/runs/run_1/outputs/"
NEAR_LIGHTHOUSE = LIGHTHOUSE.replace("winters", "years")  # a near duplicate of LIGHTHOUSE
CHECKS = TypeAdapter(list[Check])


class Files:
    """An ArtifactReader over in-memory files, counting its reads."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.reads: list[str] = []

    def read(self, uri: str) -> bytes:
        self.reads.append(uri)
        if uri not in self.files:
            raise UnreadableArtifactError(f"cannot read {uri}: No such file or directory")
        return self.files[uri]


class Stored:
    """StoredSketches over given items, counting its reads."""

    def __init__(self, items: dict[ContentKind, dict[str, list[int]]] | None = None) -> None:
        self.items = items or {}
        self.reads: list[ContentKind] = []

    def sketches(self, kind: ContentKind) -> Iterator[tuple[str, list[int]]]:
        self.reads.append(kind)
        yield from self.items.get(kind, {}).items()


def run(
    checks: list[dict[str, Any]],
    files: dict[str, bytes | str | dict[str, Any]],
    stored: Stored | None = None,
    artifacts: list[str] | None = None,
) -> GateVerdict:
    """The verdict of `checks` on a run whose outputs are `files` (path -> content)."""
    data = {
        ROOT + path: (
            body
            if isinstance(body, bytes)
            else (body if isinstance(body, str) else json.dumps(body)).encode()
        )
        for path, body in files.items()
    }
    return evaluate(
        CHECKS.validate_python(checks),
        artifacts if artifacts is not None else list(data),
        Files(data),
        stored or Stored(),
        output_root=ROOT,
    )


def only(verdict: GateVerdict) -> FailedCheck:
    assert len(verdict.failed) == 1, verdict
    return verdict.failed[0]


def story_file(seed: str, text: str = LIGHTHOUSE) -> tuple[str, dict[str, Any]]:
    data = story_data(seed, text)
    return f"stories/{data['story_id']}.json", data


def stored_sketch(data: dict[str, Any]) -> list[int]:
    return sketch(compared_text(Story.model_validate(data)))


# --- count -------------------------------------------------------------------------------------


def test_count_within_bounds_passes() -> None:
    files = {"stories/a.json": "{}", "stories/b.json": "{}", "log.txt": "x"}

    verdict = run([{"kind": "count", "files": "stories/*.json", "min": 2, "max": 2}], files)

    assert verdict.passed
    assert verdict.failed == []


def test_count_below_min_fails_on_the_run_as_a_whole() -> None:
    verdict = run(
        [{"kind": "count", "name": "has stories", "files": "stories/*.json", "min": 3}],
        {"stories/a.json": "{}"},
    )

    failure = only(verdict)
    assert not verdict.passed
    assert (failure.index, failure.name, failure.kind, failure.file) == (
        0,
        "has stories",
        "count",
        None,
    )
    assert (failure.measured, failure.bound) == (1, ">= 3")
    assert failure.reason == "1 files match stories/*.json; at least 3 expected"


def test_count_above_max_fails_and_counts_no_file_twice() -> None:
    uri = ROOT + "cards/a.json"
    verdict = run(
        [{"kind": "count", "files": "cards/*.json", "max": 1}],
        {"cards/a.json": "{}", "cards/b.json": "{}"},
        artifacts=[uri, uri, ROOT + "cards/b.json"],
    )

    assert (only(verdict).measured, only(verdict).bound) == (2, "<= 1")


def test_count_of_nothing_is_zero_and_reads_no_file() -> None:
    reader = Files({ROOT + "x.txt": b"x"})

    verdict = evaluate(
        CHECKS.validate_python([{"kind": "count", "files": "stories/*.json", "max": 0}]),
        [ROOT + "x.txt"],
        reader,
        Stored(),
        output_root=ROOT,
    )

    assert verdict.passed
    assert reader.reads == []


# --- length ------------------------------------------------------------------------------------


def test_length_in_characters_and_in_words() -> None:
    files = {"notes/a.txt": "one two three", "notes/b.txt": "héllo"}

    assert run([{"kind": "length", "files": "notes/*.txt", "min": 5, "max": 13}], files).passed
    words = run([{"kind": "length", "files": "notes/*.txt", "unit": "words", "min": 2}], files)

    failure = only(words)
    assert failure.file == "notes/b.txt"
    assert (failure.measured, failure.bound) == (1, ">= 2 words")
    assert failure.reason == "notes/b.txt is 1 words long; at least 2 expected"


def test_length_too_long_names_the_file_and_the_bound() -> None:
    verdict = run([{"kind": "length", "files": "*.md", "max": 3}], {"report.md": "four"})

    assert (only(verdict).measured, only(verdict).bound) == (4, "<= 3 characters")


def test_length_of_a_json_field_by_dotted_path() -> None:
    path, data = story_file("a")
    data["sources"] = [{"title": "A short title"}]
    checks = [
        {"kind": "length", "files": "stories/*.json", "field": "text", "unit": "words", "min": 50},
        {"kind": "length", "files": "stories/*.json", "field": "sources.0.title", "max": 5},
    ]

    verdict = run(checks, {path: data})

    failure = only(verdict)
    assert failure.index == 1
    assert failure.reason == f"sources.0.title of {path} is 13 characters long; at most 5 expected"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"title": "x"}, "has no field text"),
        ({"text": 3}, "has a number at text, not text"),
        ({"text": ["a"]}, "has an array at text, not text"),
        ({"text": None}, "has null at text, not text"),
        ("not json", "is not JSON"),
        (b"\xff\xfe{}", "is not UTF-8 text"),
    ],
)
def test_a_field_that_cannot_be_measured_fails_with_why(
    body: dict[str, Any] | str | bytes, reason: str
) -> None:
    verdict = run(
        [{"kind": "length", "files": "*.json", "field": "text", "max": 10}], {"a.json": body}
    )

    failure = only(verdict)
    assert failure.file == "a.json"
    assert reason in failure.reason
    assert failure.measured is None


def test_deeply_nested_json_fails_its_check_and_raises_nothing() -> None:
    body = "[" * 100_000 + "]" * 100_000

    verdict = run([{"kind": "length", "files": "*.json", "field": "a", "max": 1}], {"a.json": body})

    assert "nested too deep" in only(verdict).reason


# --- json_schema -------------------------------------------------------------------------------

STORY_SCHEMA = {
    "type": "object",
    "required": ["title", "text"],
    "properties": {"title": {"type": "string", "maxLength": 200}, "text": {"type": "string"}},
}


def test_json_schema_passes_valid_files_and_names_the_first_error_of_each_other() -> None:
    files = {
        "stories/good.json": {"title": "T", "text": "x"},
        "stories/bad.json": {"title": 7},
        "stories/other.txt": "not checked",
    }

    verdict = run(
        [{"kind": "json_schema", "files": "stories/*.json", "schema": STORY_SCHEMA}], files
    )

    failure = only(verdict)
    assert failure.file == "stories/bad.json"
    assert failure.reason.startswith("stories/bad.json does not match the schema at ")
    assert "(and 1 more)" in failure.reason


def test_json_schema_on_a_file_that_is_not_json() -> None:
    verdict = run([{"kind": "json_schema", "files": "*.json", "schema": {}}], {"a.json": "{nope"})

    assert only(verdict).reason.startswith("a.json is not JSON: ")


def test_json_schema_with_a_dangling_ref_fails_the_file_instead_of_raising() -> None:
    schema = {"$ref": "#/$defs/missing"}

    verdict = run([{"kind": "json_schema", "files": "*.json", "schema": schema}], {"a.json": "{}"})

    assert "cannot be checked against the schema" in only(verdict).reason


def test_json_schema_patterns_run_in_linear_time() -> None:
    schema = {"properties": {"id": {"type": "string", "pattern": "^(a+)+$"}}}

    verdict = run(
        [{"kind": "json_schema", "files": "*.json", "schema": schema}],
        {"a.json": {"id": "a" * 40 + "!"}},
    )

    assert "does not match '^(a+)+$'" in only(verdict).reason


def test_a_huge_schema_error_is_cut_to_one_short_line() -> None:
    verdict = run(
        [{"kind": "json_schema", "files": "*.json", "schema": {"type": "string"}}],
        {"a.json": {"text": "word\n" * 10_000}},
    )

    reason = only(verdict).reason
    assert len(reason) <= 300
    assert "\n" not in reason
    assert reason.endswith("…")


# --- near_duplicate ----------------------------------------------------------------------------


def test_a_story_far_from_every_stored_one_passes() -> None:
    path, data = story_file("new", VOLCANO_STORY)
    _, old = story_file("old", LIGHTHOUSE_AUTOMATED)
    stored = Stored({ContentKind.STORY: {old["story_id"]: stored_sketch(old)}})

    verdict = run(
        [{"kind": "near_duplicate", "files": "stories/*.json", "threshold": 0.5}],
        {path: data},
        stored,
    )

    assert verdict.passed
    assert stored.reads == [ContentKind.STORY]


def test_a_story_near_a_stored_one_fails_with_the_similarity() -> None:
    path, data = story_file("new", NEAR_LIGHTHOUSE)
    _, old = story_file("old", LIGHTHOUSE)
    stored = Stored({ContentKind.STORY: {old["story_id"]: stored_sketch(old)}})

    verdict = run(
        [{"kind": "near_duplicate", "files": "stories/*.json", "threshold": 0.5}],
        {path: data},
        stored,
    )

    failure = only(verdict)
    assert failure.file == path
    assert failure.measured is not None
    assert failure.measured >= 0.5
    assert failure.bound == "< 0.5"
    assert f"similar to the stored story {old['story_id']}" in failure.reason


def test_a_story_already_indexed_is_not_its_own_duplicate() -> None:
    path, data = story_file("same")
    stored = Stored({ContentKind.STORY: {data["story_id"]: stored_sketch(data)}})

    verdict = run(
        [{"kind": "near_duplicate", "files": "stories/*.json", "threshold": 0.5}],
        {path: data},
        stored,
    )

    assert verdict.passed


def test_a_later_output_near_an_earlier_one_of_the_run_fails() -> None:
    first, first_data = story_file("one", LIGHTHOUSE)
    second, second_data = story_file("two", NEAR_LIGHTHOUSE)
    third, third_data = story_file("three", LIGHTHOUSE_AUTOMATED)

    verdict = run(
        [{"kind": "near_duplicate", "files": "stories/*.json", "threshold": 0.5}],
        {first: first_data, second: second_data, third: third_data},
    )

    failure = only(verdict)
    assert failure.file == second
    assert failure.reason.endswith(f"similar to {first}, another output of the run")


def test_a_file_outside_the_content_folders_compares_with_the_run_only_unless_told() -> None:
    _, old = story_file("old", LIGHTHOUSE)
    stored = Stored({ContentKind.STORY: {old["story_id"]: stored_sketch(old)}})
    text = LIGHTHOUSE.replace("\n", " ")
    check = {"kind": "near_duplicate", "files": "drafts/*.txt", "threshold": 0.5}

    assert run([check], {"drafts/a.txt": text}, stored).passed
    assert stored.reads == []
    against = run([{**check, "against": "story"}], {"drafts/a.txt": text}, stored)

    assert "similar to the stored story" in only(against).reason


def test_a_field_is_compared_instead_of_the_whole_file() -> None:
    first = {"summary": LIGHTHOUSE, "id": 1}
    second = {"summary": VOLCANO_STORY, "id": 1}
    check = {"kind": "near_duplicate", "files": "*.json", "threshold": 0.5}

    assert not run([check], {"a.json": first, "b.json": dict(first, id=2)}).passed
    assert run([{**check, "field": "summary"}], {"a.json": first, "b.json": second}).passed


def test_an_invalid_story_file_cannot_be_compared() -> None:
    path, data = story_file("bad")
    del data["title"]

    verdict = run(
        [{"kind": "near_duplicate", "files": "stories/*.json", "threshold": 0.5}], {path: data}
    )

    assert "is not a valid story" in only(verdict).reason


def test_an_empty_text_is_similar_to_nothing() -> None:
    check = {"kind": "near_duplicate", "files": "*.txt", "threshold": 0.1}

    assert run([check], {"a.txt": "", "b.txt": ""}).passed


# --- files that cannot be measured, and the bounds ---------------------------------------------


def test_an_unreadable_file_fails_each_check_that_needs_it() -> None:
    missing = ROOT + "stories/gone.json"
    checks = [
        {"kind": "count", "files": "stories/*.json", "min": 1},
        {"kind": "json_schema", "files": "stories/*.json", "schema": {}},
        {"kind": "length", "files": "stories/*.json", "max": 10},
    ]

    verdict = run(checks, {}, artifacts=[missing])

    assert [(f.index, f.file) for f in verdict.failed] == [
        (1, "stories/gone.json"),
        (2, "stories/gone.json"),
    ]
    assert "cannot be read: cannot read" in verdict.failed[0].reason


def test_a_file_too_large_for_the_reader_or_the_gate_fails_its_check() -> None:
    class Limited(Files):
        def read(self, uri: str) -> bytes:
            raise ArtifactTooLargeError(f"{uri} is larger than 10 bytes")

    files = OutputFiles(Limited({}), max_file_bytes=4)
    big = OutputFiles(Files({ROOT + "a.txt": b"12345"}), max_file_bytes=4)
    output = run_outputs([ROOT + "a.txt"], ROOT)[0]

    with pytest.raises(NotMeasurableError, match=r"cannot be read: .* larger than 10 bytes"):
        files.text(output)
    with pytest.raises(NotMeasurableError, match="larger than the 4 bytes checks read"):
        big.text(output)


def test_each_file_is_read_once_for_all_its_checks() -> None:
    reader = Files({ROOT + "a.json": b'{"text": "one two"}'})
    checks = CHECKS.validate_python(
        [
            {"kind": "json_schema", "files": "*.json", "schema": {}},
            {"kind": "length", "files": "*.json", "field": "text", "max": 100},
            {"kind": "near_duplicate", "files": "*.json", "threshold": 0.9},
        ]
    )

    assert evaluate(checks, [ROOT + "a.json"], reader, Stored(), output_root=ROOT).passed
    assert reader.reads == [ROOT + "a.json"]


def test_files_past_the_bounds_are_not_read_and_fail() -> None:
    uris = [f"{ROOT}{index}.txt" for index in range(5)]
    by_count = OutputFiles(Files(dict.fromkeys(uris, b"abc")), max_files=3)
    by_bytes = OutputFiles(Files(dict.fromkeys(uris, b"abc")), max_bytes=5)
    outputs = run_outputs(uris, ROOT)

    read = [_refusal(by_count, output) for output in outputs]
    assert read[:3] == [None] * 3
    assert read[3:] == ["was not read: checks read at most 3 files"] * 2
    assert by_count.files_read == 3
    read = [_refusal(by_bytes, output) for output in outputs]
    assert read[:2] == [None] * 2
    assert read[2:] == ["was not read: checks read at most 5 bytes of a run's outputs"] * 3
    assert by_bytes.bytes_read == 6


def _refusal(files: OutputFiles, output: Output) -> str | None:
    """Why the file was not read, or None when it was."""
    try:
        files.data(output)
    except NotMeasurableError as exc:
        return str(exc)
    return None


def test_a_read_that_may_succeed_later_is_raised_for_the_caller_to_retry() -> None:
    class Flaky(Files):
        def read(self, uri: str) -> bytes:
            raise UnavailableError("S3 is throttling")

    checks = CHECKS.validate_python([{"kind": "length", "files": "*", "max": 1}])

    with pytest.raises(UnavailableError):
        evaluate(checks, [ROOT + "a.txt"], Flaky({}), Stored(), output_root=ROOT)


def test_failures_past_the_listed_bound_are_counted() -> None:
    files = {f"{index:03}.txt": "too long" for index in range(70)}

    verdict = run([{"kind": "length", "files": "*.txt", "max": 1}], files)

    assert len(verdict.failed) == 50
    assert verdict.unlisted == 20
    assert not verdict.passed


def test_no_checks_and_no_matching_files_pass() -> None:
    assert run([], {"a.txt": "x"}).passed
    assert run(
        [
            {"kind": "json_schema", "files": "stories/*.json", "schema": {"type": "object"}},
            {"kind": "length", "files": "stories/*.json", "min": 1},
            {"kind": "near_duplicate", "files": "stories/*.json", "threshold": 0.5},
        ],
        {"a.txt": "x"},
    ).passed


# --- paths -------------------------------------------------------------------------------------


def test_paths_are_relative_to_the_output_folder() -> None:
    s3_root = "s3://bucket/runs/run_1/"

    assert relative_path(ROOT + "stories/a.json", ROOT) == "stories/a.json"
    assert relative_path(ROOT + "my%20notes/a%25.txt", ROOT) == "my notes/a%.txt"
    assert relative_path(s3_root + "my%20notes/a.txt", s3_root) == "my%20notes/a.txt"
    assert relative_path(s3_root + "a.txt", s3_root.rstrip("/")) == "a.txt"
    assert relative_path("file:///data/runs/run_2/outputs/a.txt", ROOT) is None
    assert relative_path(ROOT + "../../run_2/outputs/a.txt", ROOT) is None
    assert relative_path(ROOT + "a//b.txt", ROOT) is None


def test_artifacts_outside_the_output_folder_match_no_glob() -> None:
    verdict = evaluate(
        CHECKS.validate_python([{"kind": "count", "files": "**", "max": 1}]),
        [ROOT + "a.txt", "file:///data/runs/run_1/worker.log", "s3://elsewhere/a.txt"],
        Files({}),
        Stored(),
        output_root=ROOT,
    )

    assert verdict.passed
