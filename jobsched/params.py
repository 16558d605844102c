"""Job params: the template's defaults merged with the request, then checked against its schema."""

import json
from typing import Any

from jobsched.constants import MAX_PARAMS_BYTES
from jobsched.errors import FieldProblem, ValidationFailedError
from jobsched.models import JobTemplate


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

    validator = Draft202012Validator(schema)
    problems = [
        FieldProblem(
            ".".join([field, *(str(part) for part in error.absolute_path)]),
            error.message,
        )
        for error in sorted(validator.iter_errors(params), key=lambda e: list(e.absolute_path))
    ]
    if problems:
        detail = "; ".join(f"{p.field}: {p.message}" for p in problems)
        raise ValidationFailedError(
            f"{field} do not match the template's schema: {detail}", problems
        )
