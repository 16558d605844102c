"""The `jobsched` command's exit codes: what a script may rely on (README, "Exit codes")."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1  # anything not below (an unexpected refusal, a local failure)
    USAGE = 2  # a bad option or argument (the command line's own check)
    NOT_FOUND = 3  # 404: no such job, run, template...
    CONFLICT = 4  # 409: the state forbids it now (already running, a reused idempotency key)
    DENIED = 5  # 401 / 403: no key, a bad or revoked key, or a scope it lacks
    INVALID = 6  # 400 / 413 / 422: the request's fields (listed on stderr)
    UNAVAILABLE = 7  # the deployment could not be reached, or failed (429 / 5xx after retries)
    TIMEOUT = 8  # --wait / --follow gave up (--timeout); the job goes on
    JOB_FAILED = 9  # --wait: the job ended without a completed run (failed, cancelled)
    NO_DEPLOYMENT = 10  # no URL or key found (arguments, environment, profile, local runtime)


def code_of_status(status: int) -> ExitCode:
    if status == 404:
        return ExitCode.NOT_FOUND
    if status == 409:
        return ExitCode.CONFLICT
    if status in (401, 403):
        return ExitCode.DENIED
    if status in (400, 413, 422):
        return ExitCode.INVALID
    if status == 429 or status >= 500:
        return ExitCode.UNAVAILABLE
    return ExitCode.ERROR
