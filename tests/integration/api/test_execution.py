"""The HTTP side of execution: a run's logs, a reservation's outcome, reservations in the queue."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from jobsched.jobs.keys import mint_key
from jobsched.jobs.reservations import reserve
from jobsched.models import JobRun, Scope
from jobsched.ports import Stores
from jobsched.ports.dispatch import NoKicker, NoTaskStopper
from local.exec.logs import FileLogReader
from tests.support.api import V2, assert_problem, post_job


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def api(stores: Stores, data_dir: Path) -> TestClient:
    """A read-only client over stores whose logs are files under `data_dir`."""
    from api.app import create_app

    wired = stores.with_edges(NoKicker(), NoTaskStopper(), FileLogReader(data_dir))
    client = TestClient(create_app(wired), raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {mint_key(stores.keys, 't', [Scope.READ]).secret}"
    return client


def write_log(data_dir: Path, run_id: str, lines: list[str]) -> Path:
    log = data_dir / "runs" / run_id / "log.jsonl"
    log.parent.mkdir(parents=True)
    log.write_text("".join(line + "\n" for line in lines))
    return log


LINES = [f'{{"event": "progress", "n": {n}}}' for n in range(5)]


def test_a_running_runs_log_is_found_by_its_id_and_read_page_by_page(
    api: TestClient, stores: Stores, data_dir: Path
) -> None:
    stores.runs.put(JobRun(run_id="run_1", job_id="job_1", template_id="echo"))  # no log_path
    write_log(data_dir, "run_1", LINES)

    first = api.get(f"{V2}/runs/run_1/logs", params={"limit": 3})
    assert first.status_code == 200, first.text
    assert first.json()["lines"] == LINES[:3]
    cursor = first.json()["next_cursor"]
    second = api.get(f"{V2}/runs/run_1/logs", params={"cursor": cursor}).json()
    assert second["lines"] == LINES[3:]
    end = api.get(f"{V2}/runs/run_1/logs", params={"cursor": second["next_cursor"]}).json()
    assert end == {"lines": [], "next_cursor": second["next_cursor"]}  # follow from here


def test_a_finished_runs_log_is_read_from_its_recorded_path(
    api: TestClient, stores: Stores, data_dir: Path
) -> None:
    log = write_log(data_dir, "elsewhere", LINES[:1])
    stores.runs.put(JobRun(run_id="run_2", job_id="job_1", template_id="echo", log_path=str(log)))

    assert api.get(f"{V2}/runs/run_2/logs").json()["lines"] == LINES[:1]


def test_a_line_still_being_written_waits_for_its_end(
    api: TestClient, stores: Stores, data_dir: Path
) -> None:
    stores.runs.put(JobRun(run_id="run_3", job_id="job_1", template_id="echo"))
    log = write_log(data_dir, "run_3", LINES[:1])
    with log.open("a") as out:
        out.write('{"event": "half')

    body = api.get(f"{V2}/runs/run_3/logs").json()

    assert body["lines"] == LINES[:1]
    assert body["next_cursor"] == str(len(LINES[0]) + 1)


def test_a_log_outside_the_data_dir_is_never_read(
    api: TestClient, stores: Stores, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not serve\n")
    stores.runs.put(
        JobRun(run_id="run_4", job_id="job_1", template_id="echo", log_path=str(secret))
    )

    assert api.get(f"{V2}/runs/run_4/logs").json()["lines"] == []


def test_a_run_with_no_log_yet_reads_empty(api: TestClient, stores: Stores) -> None:
    stores.runs.put(JobRun(run_id="run_5", job_id="job_1", template_id="echo"))

    assert api.get(f"{V2}/runs/run_5/logs").json() == {"lines": [], "next_cursor": None}


def test_logs_of_an_unknown_run_are_a_404_and_a_bad_cursor_a_422(
    api: TestClient, stores: Stores
) -> None:
    assert_problem(api.get(f"{V2}/runs/run_missing/logs"), 404)
    stores.runs.put(JobRun(run_id="run_6", job_id="job_1", template_id="echo"))
    assert_problem(api.get(f"{V2}/runs/run_6/logs", params={"cursor": "-1"}), 422, "cursor")
    assert_problem(api.get(f"{V2}/runs/run_6/logs", params={"limit": 0}), 422)


def test_a_reservation_is_readable_with_its_status(
    api: TestClient, stores: Stores, echo_template: str
) -> None:
    reservation = reserve(stores, echo_template, {"message": "direct"})

    response = api.get(f"{V2}/reservations/{reservation.reservation_id}")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["reservation_id"] == reservation.reservation_id
    assert body["status"] == "pending"
    assert body["params"] == {"message": "direct", "count": 1}
    assert set(body) == {
        "reservation_id",
        "template_id",
        "params",
        "status",
        "exit_code",
        "error",
        "result",
        "artifacts",
        "log_path",
        "usage",
        "created_at",
        "started_at",
        "finished_at",
        "eta",
    }
    assert body["eta"]["state"] == "estimated"
    assert_problem(api.get(f"{V2}/reservations/rsv_missing"), 404)


def test_the_queue_lists_pending_reservations_ahead_on_its_first_page(
    client: TestClient, stores: Stores, echo_template: str
) -> None:
    jobs = [post_job(client)["job_id"] for _ in range(3)]
    first = reserve(stores, echo_template, {})
    second = reserve(stores, echo_template, {})

    page = client.get(f"{V2}/queue", params={"limit": 2}).json()

    assert [r["reservation_id"] for r in page["reservations"]] == [
        first.reservation_id,
        second.reservation_id,
    ]
    assert page["reservations"][0]["template_id"] == "echo"
    assert [item["job_id"] for item in page["items"]] == jobs[:2]  # reservations are not jobs
    assert page["items"][0]["position"] == 1
    later = client.get(f"{V2}/queue", params={"cursor": page["next_cursor"]}).json()
    assert later["reservations"] == []
    assert [item["job_id"] for item in later["items"]] == jobs[2:]


def test_a_reservations_log_is_read_as_a_runs_is(
    api: TestClient, stores: Stores, data_dir: Path, echo_template: str
) -> None:
    reservation = reserve(stores, echo_template, {"message": "direct"})
    url = f"{V2}/reservations/{reservation.reservation_id}/logs"
    assert api.get(url).json() == {"lines": [], "next_cursor": None}  # no log yet
    write_log(data_dir, reservation.reservation_id, LINES)

    first = api.get(url, params={"limit": 2})
    assert first.status_code == 200, first.text
    assert first.json()["lines"] == LINES[:2]
    rest = api.get(url, params={"cursor": first.json()["next_cursor"]}).json()
    assert rest["lines"] == LINES[2:]
    assert_problem(api.get(f"{V2}/reservations/rsv_missing/logs"), 404)
