"""Evaluating a template's checks on one run's outputs: a verdict, and no writes.

Each check applies to the outputs whose path (relative to the run's output folder) matches its
glob; a check that matches no file passes, except a `count` whose min it breaks. A file that
cannot be measured (unreadable, too large, past the evaluation's bounds, not the text or JSON
the check needs) fails that check with the reason; a read that may succeed when tried again
(a store hiccup) is raised instead, for the caller to retry.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice

from jobsched.constants import GATE_MAX_LISTED, GATE_MAX_REASON_CHARS
from jobsched.content.indexing import CONTENT_PATH, FOLDERS, parse
from jobsched.content.similarity import Sketch, most_similar, sketch
from jobsched.gates.outputs import (
    NotMeasurableError,
    Output,
    OutputFiles,
    field_text,
    run_outputs,
)
from jobsched.models.content import ContentKind, compared_text
from jobsched.models.gates import (
    Bounded,
    Check,
    CountCheck,
    FailedCheck,
    GateVerdict,
    JsonSchemaCheck,
    LengthCheck,
    NearDuplicateCheck,
    glob_regex,
)
from jobsched.params import regex
from jobsched.ports.artifacts import ArtifactReader
from jobsched.ports.content import StoredSketches

MAX_FILE_CHARS = 512  # a failure's file path as listed
SCHEMA_ERRORS_READ = 20  # a file's schema errors looked at for the most telling one


@dataclass(frozen=True)
class Miss:
    """One failure of the check being evaluated: on a file, or (file None) on the whole run."""

    file: str | None
    reason: str
    measured: float | None = None
    bound: str | None = None


def _line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass
class Failures:
    """The verdict being made: the first GATE_MAX_LISTED failures listed, the rest counted."""

    failed: list[FailedCheck] = field(default_factory=list)
    unlisted: int = 0

    def add(self, index: int, check: Check, miss: Miss) -> None:
        if len(self.failed) >= GATE_MAX_LISTED:
            self.unlisted += 1
            return
        self.failed.append(
            FailedCheck(
                index=index,
                name=check.name,
                kind=check.kind,
                file=None if miss.file is None else _line(miss.file, MAX_FILE_CHARS),
                reason=_line(miss.reason, GATE_MAX_REASON_CHARS),
                measured=miss.measured,
                bound=miss.bound,
            )
        )

    def verdict(self) -> GateVerdict:
        return GateVerdict(failed=self.failed, unlisted=self.unlisted)


def evaluate(
    checks: Sequence[Check],
    artifacts: Sequence[str],
    reader: ArtifactReader,
    content: StoredSketches,
    *,
    output_root: str,
) -> GateVerdict:
    """The verdict of `checks` on a run whose artifacts are `artifacts` (URIs) and whose output
    folder is the URI `output_root` (what a glob's paths are relative to)."""
    outputs = run_outputs(artifacts, output_root)
    files = OutputFiles(reader)
    stored = StoredByKind(content)
    failures = Failures()
    for index, check in enumerate(checks):
        pattern = glob_regex(check.files)
        matching = [output for output in outputs if regex.search(pattern, output.path)]
        for miss in _misses(check, matching, files, stored):
            failures.add(index, check, miss)
    return failures.verdict()


def _misses(
    check: Check, matching: list[Output], files: OutputFiles, stored: "StoredByKind"
) -> Iterator[Miss]:
    if isinstance(check, CountCheck):
        yield from _count(check, len(matching))
    elif isinstance(check, LengthCheck):
        yield from _lengths(check, matching, files)
    elif isinstance(check, JsonSchemaCheck):
        yield from _schema(check, matching, files)
    else:
        yield from _near_duplicates(check, matching, files, stored)


# --- count and length --------------------------------------------------------------------------


def _out_of_bounds(check: Bounded, value: int) -> tuple[str, str] | None:
    """(what was expected, the bound) when `value` is outside the check's bounds."""
    if check.min is not None and value < check.min:
        return f"at least {check.min}", f">= {check.min}"
    if check.max is not None and value > check.max:
        return f"at most {check.max}", f"<= {check.max}"
    return None


def _count(check: CountCheck, found: int) -> Iterator[Miss]:
    broken = _out_of_bounds(check, found)
    if broken is not None:
        expected, bound = broken
        yield Miss(None, f"{found} files match {check.files}; {expected} expected", found, bound)


def _lengths(check: LengthCheck, matching: list[Output], files: OutputFiles) -> Iterator[Miss]:
    for output in matching:
        try:
            if check.field is None:
                text = files.text(output)
            else:
                text = field_text(files.json(output), check.field)
        except NotMeasurableError as exc:
            yield Miss(output.path, f"{output.path} {exc}")
            continue
        length = len(text.split()) if check.unit == "words" else len(text)
        broken = _out_of_bounds(check, length)
        if broken is not None:
            expected, bound = broken
            what = output.path if check.field is None else f"{check.field} of {output.path}"
            unit = "words" if check.unit == "words" else "characters"
            yield Miss(
                output.path,
                f"{what} is {length} {unit} long; {expected} expected",
                length,
                f"{bound} {unit}",
            )


# --- JSON Schema -------------------------------------------------------------------------------


def _schema(check: JsonSchemaCheck, matching: list[Output], files: OutputFiles) -> Iterator[Miss]:
    if not matching:
        return
    from jsonschema.exceptions import best_match  # lazy, as jobsched.params does
    from referencing.exceptions import Unresolvable

    validator = regex.validator_class()(check.json_schema)
    for output in matching:
        try:
            document = files.json(output)
            errors = list(islice(validator.iter_errors(document), SCHEMA_ERRORS_READ))
        except NotMeasurableError as exc:
            yield Miss(output.path, f"{output.path} {exc}")
            continue
        except (Unresolvable, RecursionError, OverflowError, regex.PatternRefusedError) as exc:
            # What check_schema cannot see: a $ref to nowhere, a $ref loop, a float multipleOf
            # on a huge number, a pattern saved before patterns were checked.
            yield Miss(output.path, f"{output.path} cannot be checked against the schema: {exc}")
            continue
        error = best_match(errors)
        if error is None:
            continue
        where = "/".join(str(part) for part in error.absolute_path) or "(the document)"
        more = len(errors) - 1
        others = f" (and {more}{'+' if len(errors) == SCHEMA_ERRORS_READ else ''} more)"
        yield Miss(
            output.path,
            f"{output.path} does not match the schema at {where}: {error.message}"
            + (others if more else ""),
        )


# --- near duplicates ---------------------------------------------------------------------------


@dataclass
class StoredByKind:
    """The stored sketches of each kind, read once per evaluation, when first needed."""

    content: StoredSketches
    sketches: dict[ContentKind, dict[str, Sketch]] = field(default_factory=dict)

    def of(self, kind: ContentKind) -> dict[str, Sketch]:
        if kind not in self.sketches:
            self.sketches[kind] = dict(self.content.sketches(kind))
        return self.sketches[kind]


def content_file(output: Output) -> tuple[ContentKind, str] | None:
    """(kind, id) of a story or card file, found as indexing finds them."""
    match = CONTENT_PATH.search("/" + output.path)
    return (FOLDERS[match["folder"]], match["name"]) if match else None


def compared(check: NearDuplicateCheck, output: Output, files: OutputFiles) -> str:
    """The text the check compares: its field's; else, for a story or card file, what
    indexing compares (which needs a valid one); else the whole file's."""
    if check.field is not None:
        return field_text(files.json(output), check.field)
    own = content_file(output)
    if own is None:
        return files.text(output)
    kind, stem = own
    try:
        return compared_text(parse(files.data(output), kind, stem))
    except ValueError as exc:
        raise NotMeasurableError(f"is not a valid {kind.value}: {exc}") from None


def _near_duplicates(
    check: NearDuplicateCheck, matching: list[Output], files: OutputFiles, stored: StoredByKind
) -> Iterator[Miss]:
    earlier: list[tuple[str, Sketch]] = []  # this check's files before the one at hand
    for output in matching:
        try:
            item = sketch(compared(check, output, files))
        except NotMeasurableError as exc:
            yield Miss(output.path, f"{output.path} {exc}")
            continue
        miss = _like_stored(check, output, item, stored) or _like_earlier(
            check, output, item, earlier
        )
        if miss is not None:
            yield miss
        earlier.append((output.path, item))


def _like_stored(
    check: NearDuplicateCheck, output: Output, item: Sketch, stored: StoredByKind
) -> Miss | None:
    own = content_file(output)
    kind = ContentKind(check.against) if check.against else (own[0] if own else None)
    if kind is None:
        return None
    # The file's own item, if indexed already, is itself, not a duplicate.
    itself = own[1] if own and own[0] is kind else None
    best = most_similar(item, ((i, s) for i, s in stored.of(kind).items() if i != itself))
    if best is None or best[1] < check.threshold:
        return None
    similarity = round(best[1], 4)
    reason = f"{output.path} is {similarity} similar to the stored {kind.value} {best[0]}"
    return Miss(output.path, reason, similarity, f"< {check.threshold}")


def _like_earlier(
    check: NearDuplicateCheck, output: Output, item: Sketch, earlier: list[tuple[str, Sketch]]
) -> Miss | None:
    best = most_similar(item, earlier)
    if best is None or best[1] < check.threshold:
        return None
    similarity = round(best[1], 4)
    reason = f"{output.path} is {similarity} similar to {best[0]}, another output of the run"
    return Miss(output.path, reason, similarity, f"< {check.threshold}")
