"""The registry of workloads the image can run: a template's `workload` names one of these.

A workload is `run(params, ctx) -> exit code`. It writes its outputs under `ctx.output_dir`,
polls `ctx.stop` between steps and returns soon after it is set. Heavy dependencies belong
inside `run`, so that choosing one workload never pays for importing another.
"""

from collections.abc import Callable
from typing import Any

from worker.context import WorkloadContext
from worker.workloads import echo, research, story_generation

Workload = Callable[[dict[str, Any], WorkloadContext], int]

WORKLOADS: dict[str, Workload] = {
    "echo": echo.run,
    "story_generation": story_generation.run,
    "research": research.run,
}


def find(name: str) -> Workload | None:
    return WORKLOADS.get(name)
