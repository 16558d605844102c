"""Schedule lint over `jobsched local`: a cron at 02:30 in Europe/Berlin is told about the
coming year's clock changes, and a dry-run create answers the same warnings and writes nothing."""

from tests.support.local_process import Local

NIGHTLY = {
    "name": "nightly",
    "template_id": "echo",
    "expression": "cron(30 2 * * ? *)",
    "timezone": "Europe/Berlin",
}


def test_lint_and_a_dry_run_create_over_the_local_runtime(local: Local) -> None:
    linted = local.api.post("/schedules/lint", json=NIGHTLY)
    before = local.api.get("/schedules").json()["items"]
    dry = local.api.post("/schedules", params={"dry_run": "true"}, json=NIGHTLY)
    bounded = local.api.post(
        "/schedules/lint", json={**NIGHTLY, "expression": "rate(10 minutes)", "catch_up": "all"}
    )

    assert linted.status_code == 200, linted.text
    warnings = linted.json()["warnings"]
    assert [w["code"] for w in warnings] == ["dst_skipped", "dst_repeated"]
    assert "02:30" in warnings[0]["message"]
    assert "02:30 happens twice" in warnings[1]["message"]
    assert dry.status_code == 200, dry.text
    assert dry.json()["warnings"] == warnings
    assert local.api.get("/schedules").json()["items"] == before == []
    assert local.api.get(f"/schedules/{dry.json()['schedule_id']}").status_code == 404
    # the runtime's catch-up bound (JOBSCHED_CATCH_UP_MAX_FIRES, 10 by default) is the lint's
    assert "over the bound of 10" in bounded.json()["warnings"][-1]["message"]
