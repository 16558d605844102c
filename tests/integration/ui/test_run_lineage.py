"""The run page's lineage (issue 17, point 3): the tree of reruns with each run's outcome and
links, the Rerun button (write keys, the form's CSRF token, one job per form however often it
is sent), and the diff of this run's artifacts against the previous run of the lineage."""

import re

import pytest

from jobsched.jobs import reruns
from jobsched.models import Scope
from tests.support.ui import csrf_of, ui_client, write_headers
from tests.support.ui_runs import RunWorld


@pytest.fixture
def chain(run_world: RunWorld) -> dict[str, str]:
    """A job that completed and its rerun (other params) that failed, each with outputs."""
    first_job = run_world.submit("work", message="first")
    first = run_world.start()
    story = run_world.output(first, "story.txt", b"once\n<b>there</b> was\n")
    data = run_world.output(first, "data.bin", b"\x00\x01")
    run_world.finish(first, 0, artifacts=[story, data])
    again, _ = reruns.rerun(
        run_world.stores, first_job, reruns.RerunRequest(params={"message": "second"})
    )
    second = run_world.start()
    story = run_world.output(second, "story.txt", b"once\n<i>there</i> were\n")
    data = run_world.output(second, "data.bin", b"\x00\x02")
    run_world.finish(second, 1, error="exit code 1", artifacts=[story, data])
    return {
        "first_job": first_job,
        "first": first.unit_id,
        "second_job": again.job_id,
        "second": second.unit_id,
    }


def lineage_ids(html: str) -> list[str]:
    return re.findall(r'<li data-job="([^"]+)"', html)


def jobs_of_lineage(run_world: RunWorld, job_id: str) -> list[str]:
    return [view.job.job_id for view in reruns.lineage(run_world.stores, job_id).jobs]


def test_the_run_page_shows_its_lineage_with_each_runs_outcome(
    run_world: RunWorld, chain: dict[str, str]
) -> None:
    admin = ui_client(run_world.stores, [Scope.ADMIN])

    html = admin.get(f"/ui/runs/{chain['second']}").text

    assert 'data-testid="lineage"' in html
    assert lineage_ids(html) == [chain["first_job"], chain["second_job"]]
    section = html[html.index('data-testid="lineage"') :]
    first_item = section[: section.index(f'data-job="{chain["second_job"]}"')]
    assert f'href="/ui/runs/{chain["first"]}"' in first_item  # the earlier run, linked
    assert "completed" in first_item
    assert "exit 0" in first_item
    here = section[section.index(f'data-job="{chain["second_job"]}"') :]
    assert here.startswith(f'data-job="{chain["second_job"]}" aria-current="true"')
    assert "<strong>this run</strong>" in here
    assert "exit 1" in here
    # The rerun is nested under the job it reruns.
    assert re.search(
        rf'data-job="{chain["first_job"]}".*?<ul>\s*<li data-job="{chain["second_job"]}"',
        html,
        re.S,
    )
    assert f'href="/ui/runs/{chain["second"]}/diff?against={chain["first"]}"' in html
    assert f'<option value="{chain["first"]}" selected>' in html
    assert 'data-testid="rerun"' in html
    assert f'name="csrf_token" value="{csrf_of(html)}"' in html


def test_a_read_key_sees_the_lineage_and_the_diff_but_no_rerun(
    run_world: RunWorld, chain: dict[str, str]
) -> None:
    reader = ui_client(run_world.stores, [Scope.READ])
    url = f"/ui/runs/{chain['second']}"

    html = reader.get(url).text

    assert lineage_ids(html) == [chain["first_job"], chain["second_job"]]
    assert 'data-testid="rerun"' not in html
    assert f"{url}/rerun" not in html
    assert reader.get(f"{url}/diff").status_code == 200
    refused = reader.post(f"{url}/rerun", headers=write_headers(reader, url))
    assert refused.headers["X-Refused"] == "403"
    assert jobs_of_lineage(run_world, chain["first_job"]) == [
        chain["first_job"],
        chain["second_job"],
    ]


def test_rerun_makes_one_new_job_and_goes_to_the_queue(
    run_world: RunWorld, chain: dict[str, str]
) -> None:
    writer = ui_client(run_world.stores, [Scope.WRITE, Scope.READ])
    url = f"/ui/runs/{chain['second']}"
    html = writer.get(url).text
    request_id = re.search(r'name="request_id" value="([0-9a-f]{32})"', html)
    assert request_id, "the form carries no one-time id"
    form = {"request_id": request_id.group(1)}

    done = writer.post(f"{url}/rerun", data=form, headers=write_headers(writer, url))
    again = writer.post(f"{url}/rerun", data=form, headers=write_headers(writer, url))

    assert done.status_code == 200, done.text
    assert done.headers["HX-Redirect"] == "/ui/queue"  # the new job waits there
    assert again.headers["HX-Redirect"] == "/ui/queue"
    chain_now = jobs_of_lineage(run_world, chain["first_job"])
    assert len(chain_now) == 3  # the form sent twice made one job
    new = run_world.stores.jobs.get(chain_now[-1])
    assert new.rerun_of == chain["second_job"]
    assert new.params["message"] == "second"
    assert new.job_id in writer.get("/ui/queue").text

    # Without htmx: the form's own post, its token in a field, answered with a redirect.
    token = csrf_of(writer.get(url).text)
    plain = writer.post(
        f"{url}/rerun",
        data={"csrf_token": token, "request_id": "f" * 32},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert plain.status_code == 303, plain.text
    assert plain.headers["location"] == "/ui/queue"
    assert len(jobs_of_lineage(run_world, chain["first_job"])) == 4
    unknown = writer.post("/ui/runs/run_nope/rerun", headers=write_headers(writer, url))
    assert unknown.headers["X-Refused"] == "404"


def test_the_diff_page_shows_what_changed_since_the_previous_run(
    run_world: RunWorld, chain: dict[str, str]
) -> None:
    reader = ui_client(run_world.stores, [Scope.READ])
    url = f"/ui/runs/{chain['second']}/diff"

    page = reader.get(url)
    explicit = reader.get(url, params={"against": chain["first"]})

    assert page.status_code == 200, page.text
    assert explicit.status_code == 200, explicit.text
    html = page.text
    assert html.count("diff-del") == explicit.text.count("diff-del")  # the previous run's
    assert f'href="/ui/runs/{chain["first"]}"' in html
    assert re.findall(r'<tr data-artifact="([^"]+)">.*?change-(\w+)', html) == [
        ("data.bin", "changed"),
        ("story.txt", "changed"),
    ]
    diff = html[html.index('data-testid="diff" data-artifact="story.txt"') :]
    assert '<span class="diff-del">-&lt;b&gt;there&lt;/b&gt; was</span>' in diff  # escaped
    assert '<span class="diff-add">+&lt;i&gt;there&lt;/i&gt; were</span>' in diff
    assert '<span class="diff-hunk">@@ -1,2 +1,2 @@</span>' in diff
    assert "<b>there</b>" not in html
    binary = html[html.index('data-testid="diff" data-artifact="data.bin"') :]
    assert "Not shown:" in binary[: binary.index("</section>")]
    assert "not UTF-8 text" in binary[: binary.index("</section>")]
    # The first run has nothing before it; an unknown run is a 404 page.
    nothing = reader.get(f"/ui/runs/{chain['first']}/diff")
    assert nothing.status_code == 404
    assert "no earlier run" in nothing.text
    assert reader.get(url, params={"against": "run_nope"}).status_code == 404
    same = reader.get(url, params={"against": chain["second"]}).text
    assert ">Identical<" in same
