"""Job params: the template's defaults merged with the request, then checked against its schema."""

import json
from typing import Annotated, Any

from pydantic import AfterValidator

from jobsched.constants import MAX_JSON_DEPTH, MAX_PARAMS_BYTES
from jobsched.errors import FieldProblem, ValidationFailedError
from jobsched.models import JobTemplate
from jobsched.params import regex


def _within_depth(value: dict[str, Any]) -> dict[str, Any]:
    """Reject JSON nested deeper than MAX_JSON_DEPTH (checked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if not isinstance(item, list) or not item:
            continue
        if depth >= MAX_JSON_DEPTH:
            raise ValueError(f"nests deeper than {MAX_JSON_DEPTH} levels")
        stack.extend((child, depth + 1) for child in item)
    return value


# A JSON object from a client: nesting is bounded, so storing and serialising it cannot fail.
JsonObject = Annotated[dict[str, Any], AfterValidator(_within_depth)]


def check_size(params: dict[str, Any], field: str = "params") -> None:
    size = len(json.dumps(params, separators=(",", ":")).encode())
    if size > MAX_PARAMS_BYTES:
        raise ValidationFailedError.on(
            field, f"is {size} bytes as JSON; the limit is {MAX_PARAMS_BYTES} bytes (64 KB)"
        )


def check_schema(schema: dict[str, Any], field: str = "params_schema") -> None:
    """Reject a template whose params schema is not itself valid JSON Schema, or has a regex
    that RE2 cannot run (see regex.py)."""
    from jsonschema import Draft202012Validator  # lazy: keeps the API's cold start short
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise ValidationFailedError.on(field, f"is not valid JSON Schema: {exc.message}") from exc
    for where, pattern in regex.schema_patterns(schema):
        try:
            regex.compiled(pattern)
        except regex.PatternRefusedError as exc:
            raise ValidationFailedError.on(
                f"{field}.{where}",
                f"{pattern!r} cannot be run in linear time ({exc}); backreferences and "
                "lookarounds are not supported",
            ) from exc
    if regex.mixes_unevaluated_with_patterns(schema):
        raise ValidationFailedError.on(
            field,
            "unevaluatedProperties beside patternProperties is not supported: jsonschema would "
            "match those names with a backtracking regex engine",
        )


def merge_params(
    template: JobTemplate, params: dict[str, Any] | None, field: str = "params"
) -> dict[str, Any]:
    """Shallow merge: a key in the request replaces the template's default for that key."""
    merged = {**template.default_params, **(params or {})}
    check_size(merged, field)
    validate_params(template.params_schema, merged, field)
    return merged


# What a job's own params can still satisfy: defaults need not hold every required key.
_COMPLETED_BY_THE_JOB = frozenset({"required", "dependentRequired", "minProperties"})


def validate_params(schema: dict[str, Any], params: dict[str, Any], field: str = "params") -> None:
    _raise_problems(field, _schema_errors(schema, params, field))


def check_defaults(schema: dict[str, Any], defaults: dict[str, Any]) -> None:
    """Reject defaults that break the template's own schema: every job would inherit the fault.
    Keys the schema requires may be left to each job, so only those rules are waived, and only
    at the top level."""
    try:
        found = _schema_errors(schema, defaults, "default_params")
    except ValidationFailedError as exc:  # the schema's fault, not the defaults'
        raise ValidationFailedError.on(
            "params_schema", exc.detail.replace("default_params: ", "", 1)
        ) from exc
    errors = [
        error
        for error in found
        if error.absolute_path or error.validator not in _COMPLETED_BY_THE_JOB
    ]
    _raise_problems("default_params", errors)


def _schema_errors(schema: dict[str, Any], params: dict[str, Any], field: str) -> list[Any]:
    if not schema:
        return []
    from referencing.exceptions import Unresolvable

    validator = regex.validator_class()(schema)
    try:
        return sorted(validator.iter_errors(params), key=lambda e: list(e.absolute_path))
    except (Unresolvable, RecursionError, OverflowError, regex.PatternRefusedError) as exc:
        # A schema that passed check_schema can still fail when applied: a $ref to nowhere (or
        # to a remote document, never fetched), a $ref loop, a float multipleOf on a huge int,
        # a pattern RE2 refuses in a schema saved before patterns were checked.
        raise ValidationFailedError.on(
            field, f"cannot be checked against the template's params_schema: {exc}"
        ) from exc


def _raise_problems(field: str, errors: list[Any]) -> None:
    problems = [
        FieldProblem(
            ".".join([field, *(str(part) for part in error.absolute_path)]),
            error.message,
        )
        for error in errors
    ]
    if problems:
        detail = "; ".join(f"{p.field}: {p.message}" for p in problems)
        raise ValidationFailedError(
            f"{field} do not match the template's schema: {detail}", problems
        )
