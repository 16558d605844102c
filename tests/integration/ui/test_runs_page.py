"""The Runs pages over both stores: the list as the API has it (filters, paging), a run's page
(params, attempts, exit code and error, artifacts, its log), the log's download and its follow
in poll mode, and the stop button for write keys only. Runs are made by the real dispatcher."""

import json
import re

import pytest

from api.ui.pages import runs as runs_page
from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.jobs.groups import GroupCreate, GroupJobSpec, create_group
from jobsched.jobs.runs import list_runs
from jobsched.jobs.templates import TemplateCreate, create_template
from jobsched.models import JobStatus, Scope
from jobsched.models.gates import FailedCheck, GateVerdict
from jobsched.models.units import Outcome
from jobsched.models.usage import ModelUsage, Usage
from jobsched.ports import RunFilter
from tests.support.ui import ui_client, write_headers
from tests.support.ui_runs import RunWorld

ECHO_HTML = b"<script>alert('a job wrote this')</script>"


def line(n: int, event: str = "progress") -> str:
    return json.dumps({"event": event, "n": n})


@pytest.fixture
def retried(run_world: RunWorld) -> dict[str, str]:
    """A job whose first attempt failed and whose retry completed, and another template's job
    that failed for good; their run ids."""
    job = run_world.submit("work", message="hello there", sleep_seconds=1)
    first = run_world.start()
    run_world.log(first, [line(0), line(1, "boom")])
    run_world.finish(first, 3, error="exit code 3")
    run_world.clock.advance(120)  # past the retry's backoff
    second = run_world.start()
    run_world.log(second, [line(n) for n in range(7)])
    echo = run_world.output(second, "echo.html", ECHO_HTML)
    run_world.finish(second, 0, artifacts=[echo, "file:///elsewhere/secret.txt"])
    run_world.submit("other", message="other")
    third = run_world.start()
    run_world.log(third, [line(0, "other")])
    run_world.finish(third, 1, error="killed")
    return {"job": job, "first": first.unit_id, "second": second.unit_id, "third": third.unit_id}


def listed(html: str) -> list[str]:
    return re.findall(r'<tr data-run="([^"]+)"', html)


def test_the_list_shows_the_apis_runs_and_filters_narrow_it(
    run_world: RunWorld, retried: dict[str, str]
) -> None:
    admin = ui_client(run_world.stores, [Scope.ADMIN])
    api_order = [r.run_id for r in list_runs(run_world.stores, RunFilter(), 50, None).items]

    page = admin.get("/ui/runs")

    assert page.status_code == 200, page.text
    assert listed(page.text) == api_order == [retried["third"], retried["second"], retried["first"]]
    assert 'id="panel-runs_list"' in page.text
    assert listed(admin.get("/ui/runs?status=failed").text) == [retried["third"], retried["first"]]
    assert listed(admin.get("/ui/runs?template_id=other").text) == [retried["third"]]
    assert listed(admin.get(f"/ui/runs?job_id={retried['job']}&status=completed").text) == [
        retried["second"]
    ]
    # The live panel renders the same list for the page's query.
    panel = admin.get("/ui/panels/runs_list?status=failed&template_id=work")
    assert listed(panel.text) == [retried["first"]]
    # A time without a zone is UTC, as the page shows times; the dispatcher's clock is 2027.
    assert listed(admin.get("/ui/runs?since=2030-01-01T00:00").text) == []
    assert len(listed(admin.get("/ui/runs?until=2030-01-01T00:00").text)) == 3
    refused = admin.get("/ui/runs?since=yesterday")
    assert refused.status_code == 422
    assert "since" in refused.text


def test_paging_follows_the_apis_cursor(
    run_world: RunWorld, retried: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runs_page, "PAGE_SIZE", 2)
    admin = ui_client(run_world.stores, [Scope.ADMIN])
    first = admin.get("/ui/runs?status=")
    assert listed(first.text) == [retried["third"], retried["second"]]
    found = re.search(r'<a href="([^"]+)" rel="next">', first.text)
    assert found, "no next page link"
    second = admin.get(found.group(1).replace("&amp;", "&"))
    assert listed(second.text) == [retried["first"]]
    assert 'rel="next"' not in second.text
    assert "First page" in second.text


def test_a_group_filter_lists_its_jobs_latest_runs(run_world: RunWorld) -> None:
    admin = ui_client(run_world.stores, [Scope.ADMIN])
    specs = [GroupJobSpec(template_id="work"), GroupJobSpec(template_id="work")]
    group, _ = create_group(run_world.stores, GroupCreate(mode="sequential", jobs=specs))
    ran = run_world.start()
    run_world.finish(ran, 0)

    html = admin.get(f"/ui/runs?group_id={group.group_id}").text

    assert listed(html) == [ran.unit_id]
    assert listed(admin.get(f"/ui/runs?group_id={group.group_id}&status=failed").text) == []


def test_the_run_page_shows_params_attempts_outcome_artifacts_and_log(
    run_world: RunWorld, retried: dict[str, str]
) -> None:
    reader = ui_client(run_world.stores, [Scope.READ])

    page = reader.get(f"/ui/runs/{retried['first']}")

    assert page.status_code == 200, page.text
    html = page.text
    assert "hello there" in html
    assert "sleep_seconds" in html
    attempts = html[html.index('data-testid="attempts"') :]
    assert f'href="/ui/runs/{retried["second"]}">attempt 2' in attempts
    assert "<strong>attempt 1</strong>" in attempts
    assert 'data-testid="exit-code">3<' in html
    assert 'data-testid="run-error">exit code 3<' in html
    assert html.count('class="log-line"') == 2
    assert "&#34;boom&#34;" in html or "&quot;boom&quot;" in html
    timeline = html[html.index('data-testid="timeline"') :]
    assert ">queued<" in timeline
    assert ">started<" in timeline
    assert ">failed<" in timeline

    second = reader.get(f"/ui/runs/{retried['second']}").text
    assert 'data-testid="exit-code">0<' in second
    artifacts = second[second.index('data-testid="artifacts"') :]
    # Each links to its download through the API, with its URI beside it as text.
    link_0 = f'<a href="/ui/runs/{retried["second"]}/artifacts/0" download'
    assert link_0 in artifacts
    assert f'href="/ui/runs/{retried["second"]}/artifacts/1"' in artifacts
    assert "/outputs/echo.html</code>" in artifacts
    assert "<code>file:///elsewhere/secret.txt</code>" in artifacts
    assert second.count('class="log-line"') == 7
    assert reader.get("/ui/runs/run_missing").status_code == 404


def test_an_artifact_downloads_through_the_api_as_an_attachment(
    run_world: RunWorld, retried: dict[str, str]
) -> None:
    reader = ui_client(run_world.stores, [Scope.READ])

    download = reader.get(f"/ui/runs/{retried['second']}/artifacts/0")

    assert download.status_code == 200, download.text
    assert download.content == ECHO_HTML
    assert download.headers["content-disposition"] == 'attachment; filename="echo.html"'
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["cache-control"] == "private, no-store"
    # The API's refusals are the dashboard's: outside the runs folder, no such index or run.
    outside = reader.get(f"/ui/runs/{retried['second']}/artifacts/1")
    assert outside.status_code == 403
    assert "outside this runtime" in outside.text
    assert reader.get(f"/ui/runs/{retried['second']}/artifacts/2").status_code == 404
    assert reader.get(f"/ui/runs/{retried['second']}/artifacts/x").status_code == 422
    assert reader.get("/ui/runs/run_missing/artifacts/0").status_code == 404
    assert reader.get(f"/ui/runs/{retried['second']}/artifacts/..%2F0").status_code == 404


def test_the_log_downloads_whole_page_by_page(
    run_world: RunWorld, retried: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runs_page, "MAX_LOG_LINES", 3)  # three pages for seven lines
    reader = ui_client(run_world.stores, [Scope.READ])

    response = reader.get(f"/ui/runs/{retried['second']}/log.txt")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{retried["second"]}.log"'
    )
    assert response.text == "".join(line(n) + "\n" for n in range(7))
    assert reader.get("/ui/runs/run_missing/log.txt").status_code == 404


def test_the_log_follows_a_running_run_in_poll_mode(run_world: RunWorld) -> None:
    reader = ui_client(run_world.stores, [Scope.READ])  # no live mode given: it polls
    run_world.submit("work", message="slow")
    claim = run_world.start()
    run_world.log(claim, [line(0), line(1)])

    page = reader.get(f"/ui/runs/{claim.unit_id}").text
    assert page.count('class="log-line"') == 2
    assert "sse-connect" not in page
    poller = re.search(r'hx-get="(/ui/runs/[^"]+/log/lines\?cursor=(\d+))"', page)
    assert poller, "no log poller"

    nothing = reader.get(poller.group(1)).text
    assert 'class="log-line"' not in nothing
    assert f"cursor={poller.group(2)}" in nothing  # the same cursor, following on

    run_world.log(claim, [line(2), line(3, "late")])
    more = reader.get(poller.group(1)).text
    assert more.count('class="log-line"') == 2
    assert "late" in more
    assert 'hx-swap-oob="outerHTML"' in more
    cursor = re.search(r'log/lines\?cursor=(\d+)"', more)
    assert cursor
    assert int(cursor.group(1)) > int(poller.group(2))
    assert 'data-status="started"' in more  # the status, swapped out of band

    run_world.finish(claim, 0)
    last = reader.get(f"/ui/runs/{claim.unit_id}/log/lines?cursor={cursor.group(1)}").text
    assert 'data-status="completed"' in last
    assert "hx-trigger" not in last  # finished and read to the end: the poller stops
    assert reader.get(f"/ui/runs/{claim.unit_id}/log/events").status_code == 404


def test_the_log_streams_in_sse_mode_and_ends_when_the_run_has(run_world: RunWorld) -> None:
    admin = ui_client(run_world.stores, [Scope.ADMIN], live="sse")
    run_world.submit("work", message="streamed")
    claim = run_world.start()
    run_world.log(claim, [line(0)])
    page = admin.get(f"/ui/runs/{claim.unit_id}").text
    connect = re.search(r'sse-connect="(/ui/runs/[^"]+/log/events\?cursor=\d+)"', page)
    assert connect, "no log stream"
    run_world.log(claim, [line(1, "after")])
    run_world.finish(claim, 0)

    with admin.stream("GET", connect.group(1)) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        body = "".join(stream.iter_text())

    assert "event: status" in body
    assert 'data-status="completed"' in body
    [event] = re.findall(r"id: \d+\nevent: line\n(.*?)\n\n", body, re.S)
    assert "after" in event
    assert '"n": 0' not in event
    assert body.rstrip().endswith("event: end\ndata:")
    resumed = admin.get(connect.group(1), headers={"Last-Event-ID": "0"}).text
    assert resumed.count("log-line") == 2  # a reconnect resumes where its last event was


def test_a_running_runs_stop_is_for_write_keys(run_world: RunWorld) -> None:
    run_world.submit("work", message="long")
    claim = run_world.start()
    reader = ui_client(run_world.stores, [Scope.READ])
    writer = ui_client(run_world.stores, [Scope.WRITE, Scope.READ])
    url = f"/ui/runs/{claim.unit_id}"

    assert "/stop" not in reader.get(url).text
    refused = reader.post(f"{url}/stop", headers=write_headers(reader, url))
    assert refused.headers["X-Refused"] == "403"
    assert claim.job is not None
    assert run_world.stores.jobs.get(claim.job.job_id).status == JobStatus.RUNNING

    assert f'hx-post="{url}/stop"' in writer.get(url).text
    stopped = writer.post(f"{url}/stop", headers=write_headers(writer, url))
    assert stopped.status_code == 200, stopped.text
    assert "X-Refused" not in stopped.headers
    assert run_world.edges.stopped, "the task was not told to stop"
    assert 'data-status="failed"' in stopped.text
    assert "cancelled" in stopped.text
    assert "/stop" not in writer.get(url).text


def test_the_run_page_shows_its_usage_and_failed_checks(run_world: RunWorld) -> None:
    usage = Usage(
        calls=2,
        prompt_tokens=1200,
        completion_tokens=800,
        cost_usd=0.0042,
        unpriced_calls=1,
        by_model=[ModelUsage(model="gpt-4o-mini", calls=2, prompt_tokens=1200, cost_usd=0.0042)],
    )
    run_world.submit("work")
    claim = run_world.start()
    run_world.finish(claim, 0, usage=usage)
    reader = ui_client(run_world.stores, [Scope.READ])

    html = reader.get(f"/ui/runs/{claim.unit_id}").text

    shown = html[html.index('data-testid="run-usage"') :]
    assert "2,000 tokens (1,200 prompt, 800 completion) · US$0.0042 · 2 calls (1 unpriced)" in (
        shown
    )
    assert "<code>gpt-4o-mini</code>: 1,200 tokens" in shown
    assert 'data-testid="failed-checks"' not in html


def test_a_rejected_run_lists_its_failed_checks(run_world: RunWorld) -> None:
    run_world.submit("work")
    claim = run_world.start()
    failed = FailedCheck(index=0, name="three stories", kind="count", reason="2 files, not 3")
    outcome = Outcome(0, artifacts=[]).rejected(GateVerdict(failed=[failed]))
    run_world.dispatcher.finish(claim, outcome, claim_next=False)
    reader = ui_client(run_world.stores, [Scope.READ])

    html = reader.get(f"/ui/runs/{claim.unit_id}").text

    assert 'data-status="rejected"' in html
    checks = html[html.index('data-testid="failed-checks"') :]
    assert '<span class="badge rejected">three stories</span>' in checks
    assert "2 files, not 3" in checks


def test_a_retry_held_by_a_spent_budget_says_so_on_its_runs_page(run_world: RunWorld) -> None:
    stores = run_world.stores
    create_template(
        stores,
        TemplateCreate.model_validate(
            {
                "template_id": "capped",
                "name": "Capped",
                "workload": "echo",
                "retry": {"max_attempts": 2, "backoff_seconds": 0.0},
                "budgets": [{"period": "month", "tokens": 10}],
            }
        ),
    )
    run_world.submit("capped")
    # The real clock's month, which the API reads the budget in (the world's clock is 2027's).
    dispatcher = Dispatcher(stores, stores.dispatch, DispatchConfig(slots=1))
    claim = dispatcher.claim()
    assert claim is not None
    used = Usage(calls=1, prompt_tokens=6, completion_tokens=6)
    assert dispatcher.finish(claim, Outcome(exit_code=1, usage=used)) is None  # retry waits
    reader = ui_client(stores, [Scope.READ])

    html = reader.get(f"/ui/runs/{claim.unit_id}").text

    wait = html[html.index('data-testid="budget-wait"') :]
    assert "budget spent" in wait
    assert "the monthly budget of template &#39;capped&#39;" in wait
    assert "12 of 10 tokens committed" in wait
    assert "or once the budget is raised" in wait
