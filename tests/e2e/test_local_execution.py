"""`jobsched local` end to end: jobs submitted over HTTP run in order as worker processes, with
logs and artifacts; a running job is cancelled; Ctrl-C stops everything cleanly."""

import itertools
import json
import signal
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.local_process import Local
from tests.support.waiting import BOUND_SECONDS


def test_jobs_run_in_order_with_logs_and_artifacts_and_a_running_job_cancels(
    local: Local,
) -> None:
    messages = ["first job", "second job", "third job"]
    job_ids = [local.submit(message=m, sleep_seconds=0.3) for m in messages]

    runs = []
    for job_id in job_ids:
        job = local.wait_for(job_id, "finished")
        assert job["run"]["status"] == "completed", job
        assert job["run"]["exit_code"] == 0
        runs.append(local.api.get(f"/runs/{job['run']['run_id']}").json())
    assert [run["started_at"] for run in runs] == sorted(run["started_at"] for run in runs)
    for earlier, later in itertools.pairwise(runs):
        assert earlier["finished_at"] <= later["started_at"]  # one at a time

    for run, message in zip(runs, messages, strict=True):
        logs = local.api.get(f"/runs/{run['run_id']}/logs").json()
        assert any(message in line for line in logs["lines"]), logs
        [artifact] = run["artifacts"]
        path = Path(urlsplit(artifact).path)
        assert path.read_text() == message + "\n"
        assert path.is_relative_to(local.data_dir.resolve())
        # The API serves it from the runs folder, as a download.
        download = local.api.get(f"/runs/{run['run_id']}/artifacts/0")
        assert download.status_code == 200, download.text
        assert download.content == (message + "\n").encode()
        assert download.headers["content-disposition"] == f'attachment; filename="{path.name}"'

    long = local.submit(message="long one", sleep_seconds=60)
    run_id = local.wait_until_working(long)
    cancelled = local.api.post(f"/jobs/{long}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    run = local.api.get(f"/runs/{run_id}").json()
    assert (run["status"], run["error"]) == ("failed", "cancelled")

    # Ctrl-C with a job running: its worker is stopped (it logs its end), then the process.
    last = local.submit(message="running at exit", sleep_seconds=60)
    last_run = local.wait_until_working(last)
    local.process.send_signal(signal.SIGINT)
    assert local.process.wait(timeout=BOUND_SECONDS) == 0, local.output.read_text()
    printed = local.output.read_text()
    assert "Run logs" in printed
    assert "Traceback" not in printed
    log = local.data_dir / "runs" / last_run / "log.jsonl"
    assert json.loads(log.read_text().splitlines()[-1])["event"] == "finished"
