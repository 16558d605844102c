"""Job params: the template's defaults merged with the request, then checked against its schema."""

import json
from typing import Annotated, Any

from pydantic import AfterValidator

from jobsched.constants import MAX_JSON_DEPTH, MAX_PARAMS_BYTES
from jobsched.errors import FieldProblem, ValidationFailedError
from jobsched.models import JobTemplate


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
    """Reject a template whose params schema is not itself valid JSON Schema."""
    from jsonschema import Draft202012Validator  # lazy: keeps the API's cold start short
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise ValidationFailedError.on(field, f"is not valid JSON Schema: {exc.message}") from exc


def merge_params(
    template: JobTemplate, params: dict[str, Any] | None, field: str = "params"
) -> dict[str, Any]:
    """Shallow merge: a key in the request replaces the template's default for that key."""
    merged = {**template.default_params, **(params or {})}
    check_size(merged, field)
    validate_params(template.params_schema, merged, field)
    return merged


def validate_params(schema: dict[str, Any], params: dict[str, Any], field: str = "params") -> None:
    if not schema:
        return
    from jsonschema import Draft202012Validator
    from referencing.exceptions import Unresolvable

    validator = Draft202012Validator(schema)
    try:
        errors = sorted(validator.iter_errors(params), key=lambda e: list(e.absolute_path))
    except (Unresolvable, RecursionError, OverflowError) as exc:
        # A schema that passed check_schema can still fail when applied: a $ref to nowhere (or
        # to a remote document, never fetched), a $ref loop, a float multipleOf on a huge int.
        raise ValidationFailedError.on(
            field, f"cannot be checked against the template's params_schema: {exc}"
        ) from exc
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
