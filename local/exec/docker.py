"""The worker in its real image, when a docker engine is there (`jobsched local --executor`).

Same contract as the subprocess executor (container/README.md); the container shares the host's
network, so the worker reaches the emulator on loopback, and writes its outputs to the run's
folder, mounted at the same path. `docker run` passes SIGTERM on to the container (as ECS
StopTask does), and a worker that ignores it is killed with `docker kill`.
"""

import logging
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from jobsched.worker_contract import ENV_OUTPUT_DIR
from local.exec.executor import ExecutorError, LocalExecutor, WorkerProcess

logger = logging.getLogger(__name__)

IMAGE = "jobsched-worker:local"
CONTAINER_PREFIX = "jobsched-"
PROBE_SECONDS = 5.0
# The part of the environment a container gets: the worker's contract and the AWS settings.
PASSED = ("JOBSCHED_", "AWS_", "PYTHONUNBUFFERED")


def docker_cli() -> str:
    found = shutil.which("docker")
    if found is None:
        raise ExecutorError("no docker CLI on PATH")
    return found


def docker_usable() -> bool:
    """A docker CLI is on PATH and its engine answers."""
    try:
        probe = subprocess.run(  # noqa: S603 - our own fixed arguments
            [docker_cli(), "info"], capture_output=True, timeout=PROBE_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired, ExecutorError):
        return False
    return probe.returncode == 0


def build_image(container_dir: Path, image: str = IMAGE) -> None:
    """Build the job image from container/ (docker caches unchanged layers)."""
    logger.info("building %s from %s", image, container_dir)
    result = subprocess.run(  # noqa: S603 - our own arguments
        [docker_cli(), "build", "--quiet", "-t", image, str(container_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ExecutorError(f"docker build of {container_dir} failed: {result.stderr.strip()}")


class DockerExecutor(LocalExecutor):
    image = IMAGE
    forks_workers = False  # `docker run` starts the worker: a Popen of the docker CLI

    def command(self, unit_id: str, env: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
        outputs = env[ENV_OUTPUT_DIR]
        argv = [
            docker_cli(),
            "run",
            "--rm",
            "--name",
            CONTAINER_PREFIX + unit_id,
            "--network",
            "host",
            "--user",
            f"{os.getuid()}:{os.getgid()}",  # so the outputs on the host stay the user's
            "--volume",
            f"{outputs}:{outputs}",
        ]
        for name, value in sorted(env.items()):
            if name.startswith(PASSED):
                argv += ["--env", f"{name}={value}"]
        argv.append(self.image)
        # The docker client itself runs with this process's environment (DOCKER_HOST etc.).
        return argv, {k: v for k, v in os.environ.items() if not k.startswith("JOBSCHED_")}

    def kill(self, process: WorkerProcess) -> None:
        unit_id = next((u for u, p in self._running_items() if p is process), None)
        if unit_id is not None:
            subprocess.run(  # noqa: S603 - our own arguments
                [docker_cli(), "kill", CONTAINER_PREFIX + unit_id],
                capture_output=True,
                check=False,
            )
        super().kill(process)

    def _running_items(self) -> list[tuple[str, WorkerProcess]]:
        with self._lock:
            return list(self._running.items())
