"""The embedded default: seed data, and `jobsched local` serving the API end to end."""

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from jobsched.jobs.seed import DEFAULT_TEMPLATES, seed_default_templates
from jobsched.jobs.templates import TemplateCreate, TemplatePatch, update_template
from jobsched.params import validate_params
from jobsched.ports import Stores

API_KEY = "jsk_abc123_secretsecret"
STARTUP_TIMEOUT_SECONDS = 20.0
# Params a request must add to the defaults (research has no sensible default topic).
REQUIRED_EXTRAS = {"research": {"topic": "octopus cognition"}}


def test_seed_creates_the_default_templates_once(stores: Stores) -> None:
    first = seed_default_templates(stores)
    second = seed_default_templates(stores)

    assert first == ["story_generation", "research", "echo"]
    assert second == []
    listed = stores.templates.list_page(50, None).items
    assert sorted(t.template_id for t in listed) == sorted(first)


def test_seed_leaves_an_edited_template_alone(stores: Stores) -> None:
    seed_default_templates(stores)
    update_template(stores, "echo", TemplatePatch(name="My echo"))

    seed_default_templates(stores)

    assert stores.templates.get("echo").name == "My echo"


@pytest.mark.parametrize("template", DEFAULT_TEMPLATES, ids=lambda t: t.template_id)
def test_default_params_satisfy_their_schema(template: TemplateCreate) -> None:
    params = {**template.default_params, **REQUIRED_EXTRAS.get(template.template_id, {})}

    validate_params(template.params_schema, params)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def local_server(tmp_path: Path) -> Iterator[str]:
    port, moto_port = free_port(), free_port()
    log_path = tmp_path / "jobsched-local.log"
    command = [sys.executable, "-m", "local.cli", "local"]
    command += ["--port", str(port), "--moto-port", str(moto_port), "--api-key", API_KEY]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base_url, process, log_path)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.returncode == 0, log_path.read_text()  # SIGTERM stops it cleanly


def wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"jobsched local exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(
        f"jobsched local not healthy in {STARTUP_TIMEOUT_SECONDS} s:\n{log_path.read_text()}"
    )


def test_local_serves_the_seeded_templates_to_the_given_key(local_server: str) -> None:
    response = httpx.get(
        f"{local_server}/api/v2/templates",
        headers={"Authorization": f"Bearer {API_KEY}"},
        timeout=10,
    )

    assert response.status_code == 200, response.text
    template_ids = {item["template_id"] for item in response.json()["items"]}
    assert {"story_generation", "research"} <= template_ids
