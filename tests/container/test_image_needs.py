"""The job image installs boto3 and litellm only: the worker must import nothing of the API's
stack.

litellm (the `litellm` model provider's package) is imported at the first model call, never
when the worker starts: it is large and slow to import, and `echo` must not pay for it.
"""

import json
import re
import subprocess
import sys

from tests.support.worker_harness import CONTAINER_DIR

API_STACK = {"jobsched", "api", "fastapi", "pydantic", "starlette", "jsonschema", "mangum"}
MODEL_STACK = {"litellm", "openai", "tiktoken", "tokenizers", "httpx", "aiohttp"}


def test_the_worker_imports_only_the_standard_library_and_boto3() -> None:
    code = (
        "import json, sys\n"
        "import worker.main, worker.workloads.echo, worker.heartbeat, worker.artifacts\n"
        "import worker.workloads.story_generation, worker.workloads.research, worker.providers\n"
        "print(json.dumps(sorted({name.split('.')[0] for name in sys.modules})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=CONTAINER_DIR,
        env={"PYTHONPATH": str(CONTAINER_DIR), "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = set(json.loads(result.stdout))
    assert not loaded & API_STACK, loaded & API_STACK
    assert not loaded & MODEL_STACK, loaded & MODEL_STACK


def test_the_image_installs_boto3_and_litellm_and_nothing_else() -> None:
    dockerfile = (CONTAINER_DIR / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -r /tmp/requirements.txt" in dockerfile
    ignored = (CONTAINER_DIR / ".dockerignore").read_text().splitlines()
    assert "!requirements.txt" in ignored  # else the build context would not hold it
    lines = (CONTAINER_DIR / "requirements.txt").read_text().splitlines()
    packages = {
        re.split(r"[<>=\[ ]", line.strip())[0] for line in lines if line.strip() and line[0] != "#"
    }
    assert packages == {"boto3", "litellm"}, packages
