"""The job image installs only boto3: the worker must import nothing of the API's stack.

litellm (the `litellm` model provider's package) is imported at the first model call, never
when the worker starts: it is large, slow to import, and not in the image.
"""

import json
import re
import subprocess
import sys

from tests.container.harness import CONTAINER_DIR

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


def test_the_dockerfile_installs_boto3_and_nothing_else() -> None:
    dockerfile = (CONTAINER_DIR / "Dockerfile").read_text()
    installs = re.findall(r"pip install[^\n]*", dockerfile)
    assert installs
    packages = {
        word.strip("'\"").split(">")[0].split("=")[0].split("<")[0]
        for line in installs
        for word in line.split()[2:]
        if not word.startswith("-")
    }
    assert packages == {"boto3"}, packages
