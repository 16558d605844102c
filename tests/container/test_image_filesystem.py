"""The job image's filesystem contract: everything the worker and its libraries write lies under
a path the Dockerfile declares a VOLUME, made the image user's before it is declared.

A Fargate bind mount (the task's /tmp on its read-only root) takes the image's owner and mode
at that path only when the image declares the path a VOLUME; otherwise it is root-owned 0755,
and the worker, uid 10001, dies at start (`No usable temporary directory found`). The first
tests read the Dockerfile; the others run the worker as the image's user on a read-only root,
with the volume as the image prepares it and, for contrast, as Fargate gives it undeclared
(tests/support/image_root.py: needs root, as on CI). The task definition's side (it mounts
exactly these volumes) is in tests/infra/test_dispatcher.py.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.dockerfile import Dockerfile, Ownership
from tests.support.image_root import ImageRoot, run_in_image, unusable_reason
from tests.support.waiting import BOUND_SECONDS
from tests.support.worker_harness import CONTAINER_DIR, UNIT_ID, Exited, aws_client, worker_env

DOCKERFILE = Dockerfile.read()
# Where Python's tempfile (the default output dir; litellm at import) and libraries' caches and
# config (~/.cache, ~/.config, XDG_*) go.
WRITING_VARIABLES = ("TMPDIR", "HOME")
OPTIONAL_WRITING_VARIABLES = ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME")
UNDECLARED_ON_FARGATE = Ownership(uid=0, gid=0, mode=0o755)
# The unit's environment as the dispatcher sets it, without what only the harness's host runs need.
HOST_ONLY = {"PATH", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE"}


def _under(path: str, folder: str) -> bool:
    return Path(path).is_relative_to(folder)


# --- the Dockerfile ---------------------------------------------------------------------------


def test_the_image_runs_as_a_fixed_non_root_uid() -> None:
    assert DOCKERFILE.user() == (10001, 10001)


def test_each_volume_is_made_the_users_before_it_is_declared() -> None:
    volumes = DOCKERFILE.volumes()

    assert "/tmp" in volumes  # the path the task definition mounts
    for path, declared in volumes.items():
        ownership = DOCKERFILE.ownership(path, declared)
        assert ownership is not None, f"no numeric chown and chmod of {path} before its VOLUME"
        assert (ownership.uid, ownership.gid) == DOCKERFILE.user()
        assert ownership.mode & 0o700 == 0o700
        # The build discards what a step writes to a volume after its VOLUME line.
        assert DOCKERFILE.steps_touching(path, declared) == []


def test_where_the_worker_and_its_libraries_write_is_in_a_volume() -> None:
    env = DOCKERFILE.env()
    volumes = DOCKERFILE.volumes()
    named = [name for name in OPTIONAL_WRITING_VARIABLES if name in env]

    for name in [*WRITING_VARIABLES, *named]:
        assert any(_under(env[name], volume) for volume in volumes), f"{name}={env.get(name)}"
    # The code stays on the read-only root.
    assert not any(_under(DOCKERFILE.workdir(), volume) for volume in volumes)


# --- the worker as the image's user on a read-only root ---------------------------------------

MakeRoot = Callable[[Ownership], ImageRoot]


@pytest.fixture
def image_root(tmp_path: Path) -> MakeRoot:
    """An image root whose volumes are host folders owned and moded as asked (the test reads
    them afterwards); the code is a root-owned copy of container/, as COPY and compileall leave
    it."""
    reason = unusable_reason()
    if reason is not None:
        pytest.skip(reason)
    code: dict[str, Path] = {}
    for destination, source in DOCKERFILE.copies().items():
        if source.rstrip("/") != "worker":  # requirements.txt: pip's, removed by the build
            continue
        copy = tmp_path / "code" / source.rstrip("/")
        shutil.copytree(CONTAINER_DIR / source, copy, ignore=shutil.ignore_patterns("__pycache__"))
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(copy)], check=True)
        for folder, _, files in os.walk(copy):
            os.chmod(folder, 0o755)  # root's, readable by the worker
            for name in files:
                os.chmod(Path(folder) / name, 0o644)
        code[destination.rstrip("/")] = copy

    def make(ownership: Ownership) -> ImageRoot:
        volumes: dict[str, Path] = {}
        for path in DOCKERFILE.volumes():
            host = tmp_path / "volumes" / path.strip("/").replace("/", "-")
            host.mkdir(parents=True)
            os.chown(host, ownership.uid, ownership.gid)
            os.chmod(host, ownership.mode)
            volumes[path] = host
        (tmp_path / "root").mkdir()
        return ImageRoot(tmp_path / "root", code, volumes, DOCKERFILE.user())

    return make


def _as_prepared() -> Ownership:
    """The owner and mode the image gives its volumes (one for all, as it has one)."""
    volumes = DOCKERFILE.volumes()
    assert volumes, "the Dockerfile declares no VOLUME"
    (ownership,) = {DOCKERFILE.ownership(path, declared) for path, declared in volumes.items()}
    assert ownership is not None
    return ownership


def _entrypoint() -> list[str]:
    program, *args = DOCKERFILE.entrypoint()
    assert program == "python"
    return [sys.executable, *args]  # this interpreter, as the image's python


def _run_unit(root: ImageRoot, unit: dict[str, str]) -> Exited:
    env = {**DOCKERFILE.env(), **{k: v for k, v in unit.items() if k not in HOST_ONLY}}
    done = run_in_image(root, _entrypoint(), env, cwd=DOCKERFILE.workdir(), timeout=BOUND_SECONDS)
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return Exited(done.returncode, events, done.stderr)


def _fargate_unit(endpoint: str, bucket: str) -> dict[str, str]:
    """A unit as on Fargate: no output dir (the default, a temp dir), outputs uploaded to S3."""
    return worker_env(
        JOBSCHED_WORKLOAD="story_generation",
        JOBSCHED_PARAMS=json.dumps({"max_stories": 2}),
        JOBSCHED_ARTIFACTS_BUCKET=bucket,
        JOBSCHED_ARTIFACTS_PREFIX=f"runs/{UNIT_ID}",
        AWS_ENDPOINT_URL=endpoint,
    )


def test_a_job_runs_as_the_image_user_with_its_volume_as_the_image_makes_it(
    image_root: MakeRoot, endpoint: str
) -> None:
    s3 = aws_client("s3", endpoint)
    s3.create_bucket(Bucket="outputs-prepared")
    root = image_root(_as_prepared())

    done = _run_unit(root, _fargate_unit(endpoint, "outputs-prepared"))

    assert done.code == 0, done.stderr
    assert _under(done.first("started")["output_dir"], DOCKERFILE.env()["TMPDIR"])
    uploaded = s3.list_objects_v2(Bucket="outputs-prepared")["Contents"]
    assert len(uploaded) == 2
    assert all(item["Key"].startswith(f"runs/{UNIT_ID}/stories/sty_") for item in uploaded)
    assert len(done.first("artifacts")["artifacts"]) == 2
    # The worker wrote its outputs in the volume, and removed them once uploaded.
    (volume,) = root.volumes.values()
    assert list(volume.iterdir()) == []


def test_with_the_volume_as_fargate_mounts_it_undeclared_the_worker_dies_at_start(
    image_root: MakeRoot, endpoint: str
) -> None:
    aws_client("s3", endpoint).create_bucket(Bucket="outputs-undeclared")
    root = image_root(UNDECLARED_ON_FARGATE)

    done = _run_unit(root, _fargate_unit(endpoint, "outputs-undeclared"))

    assert done.code == 1
    assert "FileNotFoundError: [Errno 2] No usable temporary directory found" in done.stderr
    assert "finished" not in done.names()


@pytest.mark.skipif(importlib.util.find_spec("litellm") is None, reason="litellm not installed")
def test_litellm_imports_as_the_image_user(image_root: MakeRoot) -> None:
    # Its import takes tempfile.gettempdir() (a token store), so it too needs the volume.
    root = image_root(_as_prepared())

    done = run_in_image(
        root,
        [sys.executable, "-c", "import litellm; print(litellm.__name__)"],
        DOCKERFILE.env(),
        cwd=DOCKERFILE.workdir(),
        timeout=BOUND_SECONDS,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "litellm"
