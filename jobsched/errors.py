"""The domain error hierarchy. The API maps each class to one HTTP status in one place."""

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    """One failing field: a path like `params.max_stories` and why it failed."""

    field: str
    message: str


class DomainError(Exception):
    """Base of every error the core raises on purpose."""

    title = "Error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFoundError(DomainError):
    title = "Not found"


class ConflictError(DomainError):
    """The request does not fit the current state (a finished job, an archived template)."""

    title = "Conflict"


def stale_version(what: str, current: int, read: int) -> ConflictError:
    """A PATCH that carries the `version` its client read, after another change moved it on."""
    return ConflictError(f"{what} is at version {current}, not the {read} you read: read it again")


class ValidationFailedError(DomainError):
    title = "Validation failed"

    def __init__(self, detail: str, problems: list[FieldProblem] | None = None) -> None:
        super().__init__(detail)
        self.problems = problems or []

    @classmethod
    def on(cls, field: str, message: str) -> "ValidationFailedError":
        return cls(f"{field}: {message}", [FieldProblem(field, message)])


class ContentTooLargeError(ValidationFailedError):
    """What would be stored passes the store's item size (DynamoDB's 400 KB)."""

    title = "Content too large"


class NotTextError(ValidationFailedError):
    """An artifact asked for as text (to diff it) is binary or not UTF-8."""

    title = "Artifact is not text"


class AuthenticationError(DomainError):
    title = "Unauthorized"


class PermissionDeniedError(DomainError):
    title = "Forbidden"


class UnavailableError(DomainError):
    """The backing store throttled or failed; the client may retry."""

    title = "Service unavailable"


class TemplateChangedError(ConflictError):
    """A store refused new jobs because their template changed since it was read."""


class IdempotencyKeyTakenError(ConflictError):
    """Raised by a store when an Idempotency-Key already maps to a resource."""
