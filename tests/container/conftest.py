"""Fixtures for the container worker's tests: background workers that never outlive a test,
and a moto server that workers reach over HTTP, as they reach AWS.

The worker is its own top-level package in container/: tests that call it in-process import it
from there.
"""

import sys
from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer

from tests.support.botocore_data import share_botocore_data
from tests.support.worker_harness import CONTAINER_DIR, RunningWorker, StartWorker

share_botocore_data()

if str(CONTAINER_DIR) not in sys.path:
    sys.path.insert(0, str(CONTAINER_DIR))


@pytest.fixture
def start_worker() -> Iterator[StartWorker]:
    started: list[RunningWorker] = []

    def start(env: dict[str, str]) -> RunningWorker:
        worker = RunningWorker.start(env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()  # a failed assertion must not leave a sleeping worker behind


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """A moto server for the module's workers (AWS_ENDPOINT_URL)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
