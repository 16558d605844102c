"""Fixtures for the container worker's tests: background workers that never outlive a test."""

from collections.abc import Callable, Iterator

import pytest

from tests.container.harness import RunningWorker

StartWorker = Callable[[dict[str, str]], RunningWorker]


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
