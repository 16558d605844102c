"""echo: print a message, optionally sleep, exit with a chosen code. Checks a deployment end to end.

Params: `message` (str, "hello"), `sleep_seconds` (number, 0), `exit_code` (int, 0),
`output` (bool, true: write echo.txt holding the message), `until_file` (str, none: a path on the
worker's machine; the sleep ends as soon as it exists, so a script or test that must know a job
is still running can release it when it is ready). Other params are ignored.
"""

import time
from pathlib import Path
from typing import Any

from worker.config import EXIT_STOPPED
from worker.context import InvalidParams, WorkloadContext
from worker.workloads.params import typed

PROGRESS_SECONDS = 1.0
RELEASE_POLL_SECONDS = 0.05
OUTPUT_FILE = "echo.txt"


def _sleep(seconds: float, ctx: WorkloadContext, until: Path | None = None) -> bool:
    """Sleep in steps, logging progress, until `seconds` passed or `until` exists; False when
    told to stop first."""
    start = time.monotonic()
    deadline = start + seconds
    step = PROGRESS_SECONDS if until is None else RELEASE_POLL_SECONDS
    logged = start
    while (remaining := deadline - time.monotonic()) > 0:
        if until is not None and until.exists():
            break
        if ctx.stop.wait(min(step, remaining)):  # wakes at once on stop
            return False
        if time.monotonic() - logged >= PROGRESS_SECONDS or until is None:
            logged = time.monotonic()
            elapsed = logged - start
            ctx.log("progress", elapsed_seconds=round(elapsed, 1), total_seconds=seconds)
    return not ctx.stop.is_set()


def run(params: dict[str, Any], ctx: WorkloadContext) -> int:
    message: str = typed(params, "message", str, "hello")
    sleep_seconds = float(typed(params, "sleep_seconds", (int, float), 0))
    exit_code: int = typed(params, "exit_code", int, 0)
    output: bool = typed(params, "output", bool, True)
    until_file: str = typed(params, "until_file", str, "")
    if not 0 <= sleep_seconds < float("inf"):
        raise InvalidParams("sleep_seconds must be a finite number >= 0")
    if not 0 <= exit_code <= 255:
        raise InvalidParams("exit_code must be between 0 and 255")

    ctx.log("echo", message=message)
    if output:
        # Written first, so that a run stopped mid-sleep still leaves its output to keep.
        (ctx.output_dir / OUTPUT_FILE).write_text(message + "\n", encoding="utf-8")
    if not _sleep(sleep_seconds, ctx, Path(until_file) if until_file else None):
        return EXIT_STOPPED
    return exit_code
