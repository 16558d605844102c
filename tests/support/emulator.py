"""The dispatcher world (aws_world.py) in moto's server, reached over HTTP through
AWS_ENDPOINT_URL as the README's emulator recipe reaches it, rather than through mock_aws."""

import json
import urllib.request
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from moto.core.config import default_user_config
from moto.server import ThreadedMotoServer

from tests.support.aws_world import MOTO_CONFIG, World, dispatcher_world
from tests.support.sfn_shim import patched_interpreter
from tests.support.stack import Synthesised


def _post(url: str, body: Any = None) -> None:
    data = json.dumps(body).encode() if body is not None else b""
    request = urllib.request.Request(url, data=data, method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        answer.read()


@pytest.fixture
def moto_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto server on a free port, with every AWS client of this process pointed at it."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    # The Step Functions interpreter sends its service calls to localhost:MOTO_PORT (5000
    # unless set), not to AWS_ENDPOINT_URL.
    monkeypatch.setenv("MOTO_PORT", str(port))
    try:
        # The server shares this process's moto: its config and backends are put back after.
        with mock.patch.dict(default_user_config):
            yield url
    finally:
        _post(f"{url}/moto-api/reset")
        server.stop()


@pytest.fixture
def served_world(
    stack: Synthesised, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    # What a user POSTs too: without it moto's Step Functions never runs a state.
    _post(f"{moto_endpoint}/moto-api/config", MOTO_CONFIG)
    with patched_interpreter(), dispatcher_world(stack, monkeypatch) as world:
        yield world
