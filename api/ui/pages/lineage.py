"""A run's lineage on its page: the tree of reruns its job belongs to, each job with its latest
run's outcome; the Rerun action (POST /jobs/{id}/rerun through the API); and the diff of this
run's artifacts against another run of the lineage (GET /runs/{id}/artifacts/diff)."""

import re
import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.ui.client import Api, ApiProblemError
from api.ui.render import page
from api.ui.web import SessionDep

router = APIRouter(prefix="/ui", include_in_schema=False)

MAX_DIFFS_SHOWN = 10  # changed artifacts whose diff one page shows; the rest are listed only
REQUEST_ID = re.compile(r"[0-9a-f]{32}")  # the rerun form's one-time id (secrets.token_hex)
SHOWN_CHANGES = ("changed", "added", "removed")


def _tree(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each job with its reruns under it (`children`), oldest first; a rerun whose original is
    not listed (the first job is gone, or the answer was cut) at the top."""
    nodes = {job["job_id"]: {**job, "children": []} for job in jobs}
    roots: list[dict[str, Any]] = []
    for job in jobs:
        parent = nodes.get(job["rerun_of"]) if job["rerun_of"] else None
        (parent["children"] if parent else roots).append(nodes[job["job_id"]])
    return roots


def previous_run(jobs: list[dict[str, Any]], job_id: str) -> dict[str, Any] | None:
    """The run this job's run is best compared with: the latest run of the job it reruns (or
    of that one's original, up the chain), else of the newest earlier job that has run."""
    by_id = {job["job_id"]: job for job in jobs}
    here = by_id.get(job_id)
    seen = {job_id}
    parent = by_id.get(here["rerun_of"]) if here and here["rerun_of"] else None
    while parent is not None and parent["job_id"] not in seen:
        if parent["run"] is not None:
            return dict(parent["run"])
        seen.add(parent["job_id"])
        parent = by_id.get(parent["rerun_of"]) if parent["rerun_of"] else None
    earlier = [job for job in jobs[: jobs.index(here)] if job["run"]] if here else []
    return dict(earlier[-1]["run"]) if earlier else None


async def lineage_context(api: Api, run: dict[str, Any], job: dict[str, Any] | None) -> Any:
    """What the run page shows of its lineage (nothing for a run without a job)."""
    if job is None:
        return {"lineage": None}
    found = await api.get(f"/jobs/{job['job_id']}/lineage")
    others = [j["run"] for j in found["jobs"] if j["run"] and j["run"]["run_id"] != run["run_id"]]
    return {
        "lineage": found,
        "lineage_tree": _tree(found["jobs"]),
        "previous_run": previous_run(found["jobs"], job["job_id"]),
        "compare_runs": others,
        "rerun_request_id": secrets.token_hex(16),
    }


@router.post("/runs/{run_id}/rerun")
async def rerun(run_id: str, request: Request, session: SessionDep) -> Response:
    """Rerun the run's job as it is (the API makes the new job), then go to the new job: its
    run if it has started already, else the queue it waits in. The form's one-time id is the
    Idempotency-Key, so a form sent twice (a double click, a resend) makes one job."""
    run = await session.api.get(f"/runs/{run_id}")
    form = await request.form()
    request_id = str(form.get("request_id") or "")
    headers = (
        {"Idempotency-Key": f"ui-rerun-{request_id}"} if REQUEST_ID.fullmatch(request_id) else {}
    )
    made = await session.api.call("POST", f"/jobs/{run['job_id']}/rerun", json={}, headers=headers)
    target = f"/ui/runs/{made['run']['run_id']}" if made.get("run") else "/ui/queue"
    if request.headers.get("hx-request") == "true":
        return Response(headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


async def _diffs(
    api: Api, run_id: str, against: str, found: dict[str, Any]
) -> list[dict[str, Any]]:
    """Each changed artifact's diff (up to MAX_DIFFS_SHOWN), or why it is not shown."""
    shown: list[dict[str, Any]] = []
    changed = [a for a in found["artifacts"] if a["change"] in SHOWN_CHANGES]
    for artifact in changed[:MAX_DIFFS_SHOWN]:
        name = artifact["name"]
        try:
            named = await api.get(f"/runs/{run_id}/artifacts/diff", against=against, name=name)
        except ApiProblemError as exc:
            if exc.status not in (413, 422):  # binary or too large: said, the rest shown
                raise
            shown.append({"name": name, "lines": [], "refused": exc.detail, "truncated": False})
            continue
        lines = [{"text": text, "kind": _kind(text)} for text in named["diff"]]
        shown.append(
            {"name": name, "lines": lines, "refused": None, "truncated": named["diff_truncated"]}
        )
    return shown


def _kind(line: str) -> str:
    """How a unified diff's line is shown: header, hunk, added, removed or context."""
    if line.startswith(("+++", "---")):
        return "head"
    if line.startswith("@@"):
        return "hunk"
    return {"+": "add", "-": "del"}.get(line[:1], "ctx")


@router.get("/runs/{run_id}/diff", response_class=HTMLResponse)
async def diff_page(
    run_id: str, request: Request, session: SessionDep, against: str = ""
) -> HTMLResponse:
    """This run's artifacts against another run's (`against`; by default the previous run of
    its lineage): which changed, and the diff of each changed text artifact."""
    api = session.api
    if not against:
        run = await api.get(f"/runs/{run_id}")
        found_lineage = await api.get(f"/jobs/{run['job_id']}/lineage")
        previous = previous_run(found_lineage["jobs"], run["job_id"])
        if previous is None:
            raise ApiProblemError(
                404, {"title": "Nothing to compare", "detail": "no earlier run in its lineage"}
            )
        against = previous["run_id"]
    found = await api.get(f"/runs/{run_id}/artifacts/diff", against=against)
    changed = [a for a in found["artifacts"] if a["change"] in SHOWN_CHANGES]
    return page(
        request,
        "run_diff.html",
        section="runs",
        found=found,
        diffs=await _diffs(api, run_id, against, found),
        unshown=max(0, len(changed) - MAX_DIFFS_SHOWN),
    )
