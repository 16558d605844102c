"""The Groups pages over both stores: the list (paged), a group's timeline with a bar per job
and its outcome, and hold, release and cancel for write keys only. Runs are the dispatcher's."""

import re

import pytest

from api.ui.pages import groups as groups_page
from jobsched.jobs.groups import GroupCreate, GroupJobSpec, create_group
from jobsched.models import GroupStatus, JobStatus, Scope
from tests.support.ui import ui_client, write_headers
from tests.support.ui_runs import RunWorld


def sequential(world: RunWorld, count: int, **fields: object) -> str:
    specs = [GroupJobSpec(template_id="work") for _ in range(count)]
    group, _ = create_group(world.stores, GroupCreate(mode="sequential", jobs=specs, **fields))
    return group.group_id


def bars(html: str) -> dict[str, str]:
    """Each job's row: the outcome its bar (or its waiting note) shows."""
    rows = re.findall(r'data-job="([^"]+)">.*?data-outcome="([^"]+)"', html, re.S)
    return dict(rows)


def test_the_list_pages_through_the_apis_groups(
    run_world: RunWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(groups_page, "PAGE_SIZE", 2)
    made = [sequential(run_world, 1, name=f"g{n}") for n in range(3)]
    reader = ui_client(run_world.stores, [Scope.READ])

    first = reader.get("/ui/groups")

    assert first.status_code == 200, first.text
    shown = re.findall(r'data-group="([^"]+)"', first.text)
    assert len(shown) == 2
    found = re.search(r'<a href="([^"]+)" rel="next">', first.text)
    assert found
    second = reader.get(found.group(1).replace("&amp;", "&"))
    shown += re.findall(r'data-group="([^"]+)"', second.text)
    assert sorted(shown) == sorted(made)
    assert 'id="panel-groups_list"' in first.text


def test_a_group_page_shows_each_jobs_bar_with_its_outcome(run_world: RunWorld) -> None:
    group_id = sequential(run_world, 3)
    first = run_world.start()
    run_world.finish(first, 0)
    for _ in range(2):  # it fails, and its retry fails too
        second = run_world.start()
        run_world.finish(second, 2, error="exit code 2")
        run_world.clock.advance(120)
    third = run_world.start()  # still running
    reader = ui_client(run_world.stores, [Scope.READ])

    html = reader.get(f"/ui/groups/{group_id}").text

    assert first.job
    assert second.job
    assert third.job
    assert bars(html) == {
        first.job.job_id: "completed",
        second.job.job_id: "failed",
        third.job.job_id: "started",
    }
    lefts = [float(x) for x in re.findall(r"left: ([\d.]+)%", html)]
    assert lefts == sorted(lefts)  # one after another
    assert lefts[0] == 0
    assert f'href="/ui/runs/{third.unit_id}"' in html
    # The chart is a live panel (polled here: the app is not the local runtime's), which
    # renders from the group's id in its query.
    assert f'hx-get="/ui/panels/group_detail?group_id={group_id}"' in html
    detail = reader.get(f"/ui/panels/group_detail?group_id={group_id}").text
    assert bars(detail) == bars(html)
    missing = reader.get("/ui/panels/group_detail", headers={"HX-Request": "true"})
    assert missing.headers["X-Refused"] == "422"
    assert reader.get("/ui/groups/grp_missing").status_code == 404


def test_a_waiting_job_has_no_bar(run_world: RunWorld) -> None:
    group_id = sequential(run_world, 2)
    run_world.start()
    html = ui_client(run_world.stores, [Scope.READ]).get(f"/ui/groups/{group_id}").text
    assert list(bars(html).values()) == ["started", "queued"]
    assert html.count('class="gantt-bar') == 1


def test_hold_release_and_cancel_are_for_write_keys(run_world: RunWorld) -> None:
    group_id = sequential(run_world, 2)
    reader = ui_client(run_world.stores, [Scope.READ])
    writer = ui_client(run_world.stores, [Scope.WRITE, Scope.READ])
    url = f"/ui/groups/{group_id}"

    page = reader.get(url).text
    assert "/hold" not in page
    assert "/cancel" not in page
    for action in ("hold", "cancel"):
        refused = reader.post(f"{url}/{action}", headers=write_headers(reader, url))
        assert refused.headers["X-Refused"] == "403"
    assert run_world.stores.groups.get(group_id).hold is None

    assert f'hx-post="{url}/hold"' in writer.get(url).text
    held = writer.post(f"{url}/hold", headers=write_headers(writer, url))
    assert held.status_code == 200, held.text
    assert "X-Refused" not in held.headers
    assert f'hx-post="{url}/release"' in held.text
    assert run_world.stores.groups.get(group_id).hold is not None
    job_ids = run_world.stores.groups.get(group_id).job_ids
    assert {run_world.stores.jobs.get(job_id).status for job_id in job_ids} == {JobStatus.HELD}

    released = writer.post(f"{url}/release", headers=write_headers(writer, url))
    assert f'hx-post="{url}/hold"' in released.text
    assert run_world.stores.groups.get(group_id).hold is None

    cancelled = writer.post(f"{url}/cancel", headers=write_headers(writer, url))
    assert 'data-testid="group-status">cancelled<' in cancelled.text
    assert run_world.stores.groups.get(group_id).status == GroupStatus.CANCELLED
    assert "/cancel" not in writer.get(url).text  # ended: nothing left to do
    again = writer.post(f"{url}/release", headers=write_headers(writer, url))
    assert again.headers["X-Refused"] == "409"
    assert writer.post(f"{url}/explode", headers=write_headers(writer, url)).status_code == 404
