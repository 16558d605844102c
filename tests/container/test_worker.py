"""The worker's local contract: JSON-lines logs, exit codes, file artifacts, signals, masking."""

import json
import signal
from datetime import datetime
from pathlib import Path

import pytest

from tests.support.worker_harness import (
    JOB_ID,
    UNIT_ID,
    StartWorker,
    run_worker,
    unit_env,
    worker_env,
)


def test_echo_logs_one_json_object_per_line_and_keeps_its_output(tmp_path: Path) -> None:
    done = run_worker(unit_env("echo", tmp_path / "out", message="hi there"))

    assert done.code == 0
    assert done.stderr == ""
    assert done.names() == ["started", "echo", "usage", "artifacts", "finished"]
    for event in done.events:
        assert event["unit_id"] == UNIT_ID
        assert event["job_id"] == JOB_ID
        assert event["ts"].endswith("Z")
        assert datetime.fromisoformat(event["ts"].replace("Z", "+00:00")).utcoffset() is not None
    assert done.first("started")["workload"] == "echo"
    assert done.first("echo")["message"] == "hi there"
    assert done.first("finished")["exit_code"] == 0
    output = tmp_path / "out" / "echo.txt"
    assert done.first("artifacts")["artifacts"] == [output.resolve().as_uri()]
    assert output.read_text() == "hi there\n"


def test_exit_code_is_the_workloads(tmp_path: Path) -> None:
    done = run_worker(unit_env("echo", tmp_path, exit_code=3, output=False))

    assert done.code == 3
    assert done.first("finished")["exit_code"] == 3
    assert done.first("artifacts")["artifacts"] == []


def test_reservation_without_job_id_and_default_output_dir() -> None:
    done = run_worker(worker_env(JOBSCHED_WORKLOAD="echo", JOBSCHED_JOB_ID="", JOBSCHED_PARAMS=""))

    assert done.code == 0
    assert {event["job_id"] for event in done.events} == {""}
    (uri,) = done.first("artifacts")["artifacts"]
    output = Path(uri.removeprefix("file://"))
    assert output.read_text() == "hello\n"
    output.unlink()
    output.parent.rmdir()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"JOBSCHED_WORKLOAD": "no_such_workload"}, "unknown workload 'no_such_workload'"),
        ({"JOBSCHED_WORKLOAD": ""}, "JOBSCHED_WORKLOAD is not set"),
        ({"JOBSCHED_PARAMS": "{not json"}, "JOBSCHED_PARAMS is not valid JSON"),
        ({"JOBSCHED_PARAMS": "[1, 2]"}, "JOBSCHED_PARAMS must be a JSON object"),
        ({"JOBSCHED_PARAMS": '{"exit_code": "3"}'}, "invalid params: exit_code must be int"),
        ({"JOBSCHED_HEARTBEAT_SECONDS": "0"}, "JOBSCHED_HEARTBEAT_SECONDS must be a positive"),
        ({"JOBSCHED_HEARTBEAT": '{"Items": []}'}, "JOBSCHED_HEARTBEAT must be a JSON object"),
        ({"JOBSCHED_RESULT": "nope"}, "JOBSCHED_RESULT is not valid JSON"),
    ],
)
def test_a_unit_started_wrongly_exits_2_with_a_clear_message(
    tmp_path: Path, overrides: dict[str, str], message: str
) -> None:
    env = worker_env(JOBSCHED_WORKLOAD="echo", JOBSCHED_OUTPUT_DIR=str(tmp_path))
    env.update(overrides)

    done = run_worker(env)

    assert done.code == 2
    assert message in done.first("error")["message"]
    assert done.events[-1]["event"] == "finished"
    assert done.events[-1]["exit_code"] == 2


def test_a_workload_that_raises_exits_1_with_the_error(tmp_path: Path) -> None:
    (tmp_path / "echo.txt").mkdir()  # echo cannot write its output file over a directory

    done = run_worker(unit_env("echo", tmp_path))

    assert done.code == 1
    error = done.first("error")
    assert error["error_type"] == "IsADirectoryError"
    assert "echo.txt" in error["message"]
    assert "Traceback" in error["traceback"]
    assert done.first("finished")["exit_code"] == 1


def test_secret_looking_params_are_never_logged(tmp_path: Path) -> None:
    params = {
        "message": "visible",
        "api_key": "SEKRIT-1",
        "GitHubToken": "SEKRIT-2",
        "nested": {"db_password": "SEKRIT-3", "items": [{"client_secret": "SEKRIT-4"}]},
    }

    done = run_worker(unit_env("echo", tmp_path, **params))

    assert done.code == 0
    assert "SEKRIT" not in json.dumps(done.events)
    logged = done.first("started")["params"]
    assert logged["message"] == "visible"
    assert logged["api_key"] == logged["GitHubToken"] == "***"
    assert logged["nested"] == {"db_password": "***", "items": [{"client_secret": "***"}]}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_a_sleeping_workload_and_still_keeps_its_output(
    tmp_path: Path, start_worker: StartWorker, signum: signal.Signals
) -> None:
    # Far past the wait's bound: only the signal can end the workload in time.
    worker = start_worker(unit_env("echo", tmp_path, sleep_seconds=3600))
    progress = worker.wait_for("progress")  # logged about once a second while sleeping
    assert progress["total_seconds"] == 3600

    worker.signal(signum)
    done = worker.wait()

    assert done.code == 143
    assert done.first("stopped")["signal"] == signum.name
    assert done.first("artifacts")["artifacts"] == [(tmp_path / "echo.txt").resolve().as_uri()]
    assert done.names()[-1] == "finished"
    assert done.first("finished")["exit_code"] == 143


def test_echo_sleeps_until_its_release_file_exists(
    tmp_path: Path, start_worker: StartWorker
) -> None:
    release = tmp_path / "release"
    # Far past the wait's bound: only the release file can end the sleep in time.
    worker = start_worker(unit_env("echo", tmp_path, sleep_seconds=3600, until_file=str(release)))
    worker.wait_for("echo")

    release.touch()
    done = worker.wait()

    assert done.code == 0
    assert done.first("finished")["exit_code"] == 0
