"""A typed Python client of the scheduler's v2 API, sync (`Client`) and async (`AsyncClient`).

    from jobsched_client import Client

    with Client("http://127.0.0.1:8000", key) as api:
        job = api.jobs.create("echo", {"message": "hello"})
        for line in api.runs.follow_logs(api.jobs.wait(job.job_id).run.run_id):
            print(line)

`connect()` finds the deployment the way the `jobsched` command does: arguments, then
JOBSCHED_URL / JOBSCHED_API_KEY, then a named profile, then the local runtime.
"""

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
