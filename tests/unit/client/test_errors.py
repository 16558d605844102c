"""A refusal as a typed error (jobsched_client/errors.py): its class from the status, its
fields from the RFC 9457 problem body, one line for a terminal."""

import json

import httpx
import pytest

from jobsched_client import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ContentTooLargeError,
    FieldError,
    NotFoundError,
    PermissionDeniedError,
    ProblemError,
    RateLimitedError,
    ServerError,
    UnavailableError,
    ValidationFailedError,
)
from jobsched_client.errors import problem_of

PROBLEM = {"Content-Type": "application/problem+json"}


def answer(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = httpx.Request("GET", "http://testserver/api/v2/jobs/j_1")
    return httpx.Response(status, content=content, headers=headers or PROBLEM, request=request)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (413, ContentTooLargeError),
        (422, ValidationFailedError),
        (429, RateLimitedError),
        (503, UnavailableError),
        (500, ServerError),
        (502, ServerError),
        (504, ServerError),
        (418, ProblemError),
    ],
)
def test_each_status_has_its_class(status: int, cls: type[ProblemError]) -> None:
    error = problem_of(answer(status, {"title": "T", "status": status}))

    assert type(error) is cls
    assert error.status == status


def test_a_problem_body_gives_title_detail_type_and_retry_after() -> None:
    error = problem_of(
        answer(
            503,
            {"type": "https://x/throttled", "title": "Unavailable", "detail": "try later"},
            {**PROBLEM, "Retry-After": "3"},
        )
    )

    assert (error.title, error.detail, error.type) == (
        "Unavailable",
        "try later",
        "https://x/throttled",
    )
    assert error.retry_after == "3"
    assert str(error) == "503 Unavailable: try later"


def test_a_body_without_problem_fields_is_named_by_its_status() -> None:
    error = problem_of(answer(404, {"unexpected": True}))

    assert error.one_line() == "404 Not Found"
    assert error.type == "about:blank"
    assert error.errors == []


def test_a_body_that_is_not_json_still_gives_an_error_with_its_text() -> None:
    gateway = answer(502, b"<html>Bad Gateway</html>", {"Content-Type": "text/html"})
    error = problem_of(gateway)

    assert isinstance(error, ServerError)
    assert error.one_line() == "502 Bad Gateway: <html>Bad Gateway</html>"

    listed = problem_of(answer(500, [1, 2]))  # JSON, but not an object
    assert listed.one_line() == "500 Internal Server Error: [1, 2]"

    long = problem_of(answer(500, b"x" * 1000, {"Content-Type": "text/plain"}))
    assert len(long.detail) == 200


def test_field_errors_are_listed_and_one_line_shows_the_first_three() -> None:
    fields = [{"field": f"params.f{n}", "message": "is required"} for n in range(5)]
    error = problem_of(
        answer(422, {"title": "Invalid request", "detail": "5 fields", "errors": [*fields, "junk"]})
    )

    assert isinstance(error, ValidationFailedError)
    assert [(e.field, e.message) for e in error.errors] == [
        (f"params.f{n}", "is required") for n in range(5)
    ]
    assert isinstance(error.errors[0], FieldError)
    assert error.one_line() == (
        "422 Invalid request: 5 fields (params.f0: is required; params.f1: is required; "
        "params.f2: is required ...)"
    )


def test_one_line_does_not_repeat_fields_the_detail_already_names() -> None:
    error = problem_of(
        answer(
            422,
            {
                "title": "Invalid request",
                "detail": "query.limit: must be at most 100",
                "errors": [{"field": "query.limit", "message": "must be at most 100"}],
            },
        )
    )

    assert error.one_line() == "422 Invalid request: query.limit: must be at most 100"
    one = problem_of(
        answer(422, {"title": "Invalid", "errors": [{"field": "name", "message": "too long"}]})
    )
    assert one.one_line() == "422 Invalid (name: too long)"
