"""Usage and quality gates against `jobsched local` with the real worker and its offline model
(issue 17, points 1 and 4): a story run reports its tokens, the ledger adds them up, and a
template's checks reject a run whose outputs fall short, through the local outputs folder."""

from typing import Any

from tests.support.local_process import Local


def submit(local: Local, template_id: str, **params: Any) -> str:
    response = local.api.post("/jobs", json={"template_id": template_id, "params": params})
    assert response.status_code == 201, response.text
    job_id: str = response.json()["job_id"]
    return job_id


def latest_run(local: Local, job_id: str) -> dict[str, Any]:
    job = local.wait_for(job_id, "finished")
    run: dict[str, Any] = local.api.get(f"/runs/{job['run']['run_id']}").json()
    return run


def test_a_story_run_reports_its_usage_and_the_ledger_adds_it(local: Local) -> None:
    job = submit(local, "story_generation", max_stories=2, topic="lighthouses")

    run = latest_run(local, job)

    assert run["status"] == "completed", run
    usage = run["usage"]
    assert usage["calls"] == 2  # one model call a story
    assert usage["prompt_tokens"] > 0
    assert usage["completion_tokens"] > 0
    assert usage["cost_usd"] == 0.0  # the offline provider is free
    assert [model["calls"] for model in usage["by_model"]] == [2]
    report = local.api.get("/usage", params={"by": "template"}).json()
    groups = {group["id"]: group for group in report["groups"]}
    assert groups["story_generation"]["runs"] == 1
    assert groups["story_generation"]["total_tokens"] == usage["total_tokens"]
    stats = local.api.get("/queue/stats").json()
    assert stats["usage_last_24h"]["total_tokens"] == usage["total_tokens"]


def test_a_template_with_checks_rejects_a_run_that_falls_short(local: Local) -> None:
    checks = [{"kind": "count", "name": "five stories", "files": "stories/*.json", "min": 5}]
    response = local.api.patch("/templates/story_generation", json={"checks": checks})
    assert response.status_code == 200, response.text

    short = latest_run(local, submit(local, "story_generation", max_stories=2, topic="owls"))
    enough = latest_run(local, submit(local, "story_generation", max_stories=5, topic="owls"))

    assert short["status"] == "rejected", short
    assert short["exit_code"] == 0
    [failed] = short["failed_checks"]
    assert failed["name"] == "five stories"
    assert failed["measured"] == 2
    assert enough["status"] == "completed", enough
    assert local.api.get("/queue/stats").json()["rejected_runs"] == 1


def test_a_spent_budget_holds_the_next_job_until_it_is_raised(local: Local) -> None:
    budgets = [{"period": "day", "tokens": 1}]  # the first run is let in, and spends it
    response = local.api.patch("/templates/story_generation", json={"budgets": budgets})
    assert response.status_code == 200, response.text
    first = latest_run(local, submit(local, "story_generation", max_stories=1, topic="moths"))
    assert first["usage"]["total_tokens"] > 1

    held = submit(local, "story_generation", max_stories=1, topic="moths")
    # A job under no budget, queued after it, runs: the dispatcher passed the held one over.
    local.wait_for(submit(local, "echo", message="not held"), "finished")
    assert local.api.get(f"/jobs/{held}").json()["status"] == "queued"
    template = local.api.get("/templates/story_generation").json()
    assert template["budgets"][0]["tokens"] == 1

    raised = [{"period": "day", "tokens": 10_000_000}]
    response = local.api.patch("/templates/story_generation", json={"budgets": raised})
    assert response.status_code == 200, response.text
    assert latest_run(local, held)["status"] == "completed"
