"""Domain errors map to their documented statuses (api/problems.py); none is a 5xx but the
store being unavailable (503)."""

import pytest

from api.problems import status_of
from jobsched.errors import (
    AuthenticationError,
    ConflictError,
    DomainError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
    ValidationFailedError,
)
from jobsched.models.steps import ReleaseSlot, StepFailedError


def test_a_failed_step_condition_is_a_conflict() -> None:
    # Another writer changed what the steps were made from: the client may read and try again.
    step = ReleaseSlot("0", "run-1")

    assert status_of(StepFailedError(step, [step])) == 409


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ValidationFailedError.on("body", "bad"), 422),
        (NotFoundError("gone"), 404),
        (ConflictError("taken"), 409),
        (AuthenticationError("who"), 401),
        (PermissionDeniedError("no"), 403),
        (UnavailableError("later"), 503),
    ],
)
def test_each_domain_error_has_its_status(error: DomainError, status: int) -> None:
    assert status_of(error) == status
