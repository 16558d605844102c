"""What a call can raise. A refusal of the API is a `ProblemError` built from its RFC 9457
problem body, of the class its status names; a deployment that could not be reached, after the
retries, is a `TransportError`."""

from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import httpx  # only for annotations: a command that fails before calling never loads it


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class JobschedError(Exception):
    """Every error this client raises."""


class TransportError(JobschedError):
    """No answer from the deployment (refused, timed out, cut) after the retries."""


class UnexpectedAnswerError(JobschedError):
    """A success status whose body is not the API's: another server at the URL, or a proxy."""


class WaitTimeoutError(JobschedError):
    """`wait` or `follow_logs` gave up before the job or run ended (it goes on)."""


class EmptyIdError(JobschedError, ValueError):
    """An empty id, refused before any call: its path would name the collection instead."""


class FieldError:
    """One invalid field of a 422: where (`params.max_stories`, `query.limit`) and why."""

    __slots__ = ("field", "message")

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message

    def __repr__(self) -> str:
        return f"FieldError({self.field!r}, {self.message!r})"


class ProblemError(JobschedError):
    """The API refused: its problem body's title, detail and field errors, and the status."""

    status_code: ClassVar[int | None] = None  # the status a subclass stands for

    def __init__(self, status: int, body: dict[str, Any], headers: "httpx.Headers") -> None:
        self.status = status
        self.body = body
        self.title = str(body.get("title") or _reason(status) or "Error")
        self.detail = str(body.get("detail") or "")
        self.type = str(body.get("type") or "about:blank")
        raw = body.get("errors")
        self.errors = [
            FieldError(str(e.get("field", "")), str(e.get("message", "")))
            for e in (raw if isinstance(raw, list) else [])
            if isinstance(e, dict)
        ]
        self.retry_after = headers.get("retry-after")
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """`404 Not found: no job j_123`, with the first field errors after it."""
        text = f"{self.status} {self.title}"
        if self.detail:
            text += f": {self.detail}"
        fields = [f"{e.field}: {e.message}" for e in self.errors if e.field]
        if fields and not any(f in self.detail for f in fields):
            text += " (" + "; ".join(fields[:3]) + (" ..." if len(fields) > 3 else "") + ")"
        return text


class BadRequestError(ProblemError):
    status_code = 400


class AuthenticationError(ProblemError):
    """No key, a malformed one, an unknown or a revoked one."""

    status_code = 401


class PermissionDeniedError(ProblemError):
    """The key lacks the scope (write, admin) the call needs."""

    status_code = 403


class NotFoundError(ProblemError):
    status_code = 404


class ConflictError(ProblemError):
    """The state forbids it now (a job already running, a reused Idempotency-Key...)."""

    status_code = 409


class ContentTooLargeError(ProblemError):
    status_code = 413


class ValidationFailedError(ProblemError):
    """A 422: the request's fields are listed in `errors`."""

    status_code = 422


class RateLimitedError(ProblemError):
    status_code = 429


class UnavailableError(ProblemError):
    """A 503: the store throttled or failed; nothing was written."""

    status_code = 503


class ServerError(ProblemError):
    """Any other 5xx: a fault of the deployment, not of the request."""


_BY_STATUS: dict[int, type[ProblemError]] = {
    cls.status_code: cls
    for cls in (
        BadRequestError,
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        ConflictError,
        ContentTooLargeError,
        ValidationFailedError,
        RateLimitedError,
        UnavailableError,
    )
    if cls.status_code is not None
}


def problem_of(response: "httpx.Response") -> ProblemError:
    """The error a refused answer stands for; a body that is not a problem still gives one."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        text = response.text.strip()[:200]
        body = {"title": response.reason_phrase or "Error", "detail": text}
    status = response.status_code
    cls = _BY_STATUS.get(status, ServerError if status >= 500 else ProblemError)
    return cls(status, body, response.headers)
