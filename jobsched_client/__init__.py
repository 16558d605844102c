"""A typed Python client of the scheduler's v2 API, sync (`Client`) and async (`AsyncClient`).

    from jobsched_client import Client

    with Client("http://127.0.0.1:8000", key) as api:
        job = api.jobs.create("echo", {"message": "hello"})
        for line in api.runs.follow_logs(api.jobs.wait(job.job_id).run.run_id):
            print(line)

`connect()` finds the deployment the way the `jobsched` command does: arguments, then
JOBSCHED_URL / JOBSCHED_API_KEY, then a named profile, then the local runtime.

Names are imported when first used (PEP 562): `import jobsched_client` loads neither httpx nor
the API's models, so that `jobsched --help` stays fast.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobsched_client._async.client import AsyncClient
    from jobsched_client._sync.client import Client
    from jobsched_client.config import ConfigError, Connection, connect, connect_async, resolve
    from jobsched_client.errors import (
        AuthenticationError,
        BadRequestError,
        ConflictError,
        ContentTooLargeError,
        EmptyIdError,
        FieldError,
        JobschedError,
        NotFoundError,
        PermissionDeniedError,
        ProblemError,
        RateLimitedError,
        ServerError,
        TransportError,
        UnavailableError,
        UnexpectedAnswerError,
        ValidationFailedError,
        WaitTimeoutError,
    )
    from jobsched_client.retry import NO_RETRY, RetryPolicy

_ERRORS = (
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "ContentTooLargeError",
    "EmptyIdError",
    "FieldError",
    "JobschedError",
    "NotFoundError",
    "PermissionDeniedError",
    "ProblemError",
    "RateLimitedError",
    "ServerError",
    "TransportError",
    "UnavailableError",
    "UnexpectedAnswerError",
    "ValidationFailedError",
    "WaitTimeoutError",
)
# Where each public name lives.
_HOMES: dict[str, str] = {
    "AsyncClient": "jobsched_client._async.client",
    "Client": "jobsched_client._sync.client",
    "ConfigError": "jobsched_client.config",
    "Connection": "jobsched_client.config",
    "connect": "jobsched_client.config",
    "connect_async": "jobsched_client.config",
    "resolve": "jobsched_client.config",
    "NO_RETRY": "jobsched_client.retry",
    "RetryPolicy": "jobsched_client.retry",
    **dict.fromkeys(_ERRORS, "jobsched_client.errors"),
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # once: later reads do not come here
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])


__all__ = [
    "NO_RETRY",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ConfigError",
    "ConflictError",
    "Connection",
    "ContentTooLargeError",
    "EmptyIdError",
    "FieldError",
    "JobschedError",
    "NotFoundError",
    "PermissionDeniedError",
    "ProblemError",
    "RateLimitedError",
    "RetryPolicy",
    "ServerError",
    "TransportError",
    "UnavailableError",
    "UnexpectedAnswerError",
    "ValidationFailedError",
    "WaitTimeoutError",
    "connect",
    "connect_async",
    "resolve",
]
