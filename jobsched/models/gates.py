"""Quality gates (issue 17, point 4): the checks a template declares on its runs' outputs, and
what a run's failed checks record. jobsched/gates evaluates them.

Kept apart from the entities (which hold them) so that they import nothing of the package.

A check names its files by a glob over the path relative to the run's output folder:
`*` and `?` stay within one folder, `**` (a whole segment) spans any number of folders, and
`[abc]`, `[a-z]`, `[!abc]` are classes of one character.
"""

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    computed_field,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails

MAX_CHECKS = 20
MAX_GLOB_CHARS = 200
MAX_NAME_CHARS = 100
MAX_FIELD_CHARS = 200
MAX_FIELD_SEGMENTS = 16
MAX_BOUND = 1_000_000_000  # a count or length bound: far beyond any run's, fits every store

CheckKind = Literal["json_schema", "count", "length", "near_duplicate"]
_REGEX_SPECIAL = frozenset("\\.^$|?*+()[]{}")
_CLASS_SPECIAL = frozenset("\\]^[-")


# --- globs -------------------------------------------------------------------------------------


def glob_regex(pattern: str) -> str:
    """The anchored regular expression (RE2 and `re` syntax alike) of a glob, or ValueError
    saying what is wrong with it."""
    if not pattern:
        raise ValueError("is empty")
    if pattern.startswith("/"):
        raise ValueError("starts with /: a glob is relative to the run's output folder")
    if any(ord(char) < 32 or char == "\\" for char in pattern):
        raise ValueError("holds a backslash or a control character (write [*] for a literal *)")
    segments = pattern.split("/")
    parts = ["^"]
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment in ("", ".", ".."):
            raise ValueError(f"has an empty, . or .. folder in {pattern!r}")
        if segment == "**":
            parts.append("(?:[^/]+/)*[^/]+" if last else "(?:[^/]+/)*")
            continue
        if "**" in segment:
            raise ValueError("uses ** inside a name: ** must be a whole folder (a/**/b.json)")
        parts.append(_segment_regex(segment) + ("" if last else "/"))
    parts.append("$")
    return "".join(parts)


def _segment_regex(segment: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(segment):
        char = segment[index]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            regex, index = _class_regex(segment, index)
            out.append(regex)
            continue
        elif char == "]":
            raise ValueError("has a ] with no [ before it (write [[] or []] for a literal one)")
        else:
            out.append("\\" + char if char in _REGEX_SPECIAL else char)
        index += 1
    return "".join(out)


def _class_regex(segment: str, start: int) -> tuple[str, int]:
    """The class that opens at segment[start] ('['), and the index just past its ']'."""
    index = start + 1
    negated = index < len(segment) and segment[index] == "!"
    index += negated
    members: list[str] = []
    first = True
    while index < len(segment) and (first or segment[index] != "]"):
        first = False
        low = segment[index]
        if index + 2 < len(segment) and segment[index + 1] == "-" and segment[index + 2] != "]":
            high = segment[index + 2]
            if ord(low) > ord(high):
                raise ValueError(f"has the range {low}-{high}, whose start is after its end")
            members.append(f"{_class_char(low)}-{_class_char(high)}")
            index += 3
            continue
        members.append(_class_char(low))
        index += 1
    if index >= len(segment):
        raise ValueError("has a [ that is never closed")
    return f"[{'^/' if negated else ''}{''.join(members)}]", index + 1


def _class_char(char: str) -> str:
    return "\\" + char if char in _CLASS_SPECIAL else char


def valid_field_path(path: str | None) -> str | None:
    if path is None:
        return None
    segments = path.split(".")
    if len(segments) > MAX_FIELD_SEGMENTS:
        raise ValueError(f"has more than {MAX_FIELD_SEGMENTS} parts")
    if any(not segment for segment in segments):
        raise ValueError("has an empty part: name the keys with dots between them (story.text)")
    return path


# --- checks ------------------------------------------------------------------------------------

Glob = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_GLOB_CHARS,
        description="a glob over the output file's path relative to the run's output folder, "
        "e.g. stories/*.json; * and ? stay within a folder, ** (a whole folder) spans any",
    ),
]
FieldPath = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_FIELD_CHARS,
        description="a dotted path into the file's JSON, e.g. text or sources.0.title (a "
        "number is a list's index)",
    ),
]
Bound = Annotated[int, Field(ge=0, le=MAX_BOUND)]


class CheckBase(BaseModel):
    # Strict and closed, as a request takes it (the stored form is what a request gave).
    # `schema` is a field's alias (BaseModel has a method of that name): dumped by it too.
    model_config = ConfigDict(extra="forbid", strict=True, serialize_by_alias=True)

    name: str | None = Field(
        default=None, min_length=1, max_length=MAX_NAME_CHARS, description="shown when it fails"
    )
    files: Glob

    @field_validator("files")
    @classmethod
    def _glob(cls, value: str) -> str:
        glob_regex(value)
        return value


class Bounded(CheckBase):
    """A check of a measure within [min, max]: at least one of them, and min <= max."""

    min: Bound | None = None
    max: Bound | None = None

    @field_validator("max")
    @classmethod
    def _not_below_min(cls, value: int | None, info: ValidationInfo) -> int | None:
        low = info.data.get("min")
        if value is not None and low is not None and value < low:
            raise ValueError(f"is {value}, below min {low}")
        return value

    @model_validator(mode="after")
    def _bounded(self) -> "Bounded":
        if self.min is None and self.max is None:
            raise ValueError("needs min, max or both")
        return self


class JsonSchemaCheck(CheckBase):
    """Each matching file parses as JSON and is valid against `schema`."""

    kind: Literal["json_schema"]
    json_schema: dict[str, Any] = Field(
        alias="schema", description="a JSON Schema (draft 2020-12), checked when it is saved"
    )


class CountCheck(Bounded):
    """The number of output files matching `files` is within [min, max]."""

    kind: Literal["count"]


class LengthCheck(Bounded):
    """Each matching file's text, or the text of its JSON `field`, is within [min, max] long."""

    kind: Literal["length"]
    unit: Literal["chars", "words"] = Field(
        default="chars", description="characters (Unicode code points) or blank-separated words"
    )
    field: FieldPath | None = Field(default=None, description="measure this JSON field's text")

    @field_validator("field")
    @classmethod
    def _field_path(cls, value: str | None) -> str | None:
        return valid_field_path(value)


class NearDuplicateCheck(CheckBase):
    """Each matching file's text, or its JSON `field`'s, is less similar than `threshold`
    (estimated Jaccard of word shingles) to every stored item of its kind and to the run's
    other outputs that the check applies to."""

    kind: Literal["near_duplicate"]
    threshold: float = Field(
        gt=0, le=1, description="fails at or above this estimated Jaccard similarity"
    )
    field: FieldPath | None = Field(default=None, description="compare this JSON field's text")
    against: Literal["story", "card"] | None = Field(
        default=None,
        description="the stored items compared with; by default those of the file's own kind "
        "(a file in a stories/ or cards/ folder), none for any other file",
    )

    @field_validator("field")
    @classmethod
    def _field_path(cls, value: str | None) -> str | None:
        return valid_field_path(value)


def _untagged(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """The union's errors without its tag in their location: checks.0.max, not
    checks.0.count.max (the kind is in the body already)."""
    try:
        return handler(value)
    except ValidationError as exc:
        kind = value.get("kind") if isinstance(value, dict) else None
        details: list[InitErrorDetails] = []
        for error in exc.errors():
            loc = error["loc"]
            detail = InitErrorDetails(
                type=error["type"],
                loc=loc[1:] if loc and loc[0] == kind else loc,
                input=error["input"],
            )
            if "ctx" in error:
                detail["ctx"] = error["ctx"]
            details.append(detail)
        raise ValidationError.from_exception_data(exc.title, details) from None


Check = Annotated[
    JsonSchemaCheck | CountCheck | LengthCheck | NearDuplicateCheck,
    Field(discriminator="kind"),
    WrapValidator(_untagged),
]
Checks = Annotated[list[Check], Field(max_length=MAX_CHECKS)]


# --- verdicts ----------------------------------------------------------------------------------


class FailedCheck(BaseModel):
    """One check that failed: on one file, or on the run's outputs as a whole (count)."""

    model_config = ConfigDict(extra="forbid")

    index: int = Field(description="the check's place in the template's checks, from 0")
    name: str | None = Field(default=None, description="the check's name, if it has one")
    kind: CheckKind
    file: str | None = Field(
        default=None, description="the output file, relative to the run's output folder"
    )
    reason: str = Field(description="why it failed, in one line")
    measured: float | None = Field(
        default=None, description="what was measured: a count, a length or a similarity"
    )
    bound: str | None = Field(default=None, description="the bound it broke, e.g. <= 10 or < 0.85")


class GateVerdict(BaseModel):
    """The outcome of a run's checks. `failed` lists the first failures (bounded, so a run
    record stays small); `unlisted` counts the ones left out."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    failed: list[FailedCheck] = Field(default_factory=list)
    unlisted: int = 0

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented form
    @property
    def passed(self) -> bool:
        return not self.failed and not self.unlisted
