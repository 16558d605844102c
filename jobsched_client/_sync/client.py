# Generated from jobsched_client/_async/client.py by `make client`: do not edit.
"""The sync client, generated from the async one (`jobsched_client/_async/client.py`) by
`make client` (unasync): edit that file, then regenerate."""

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from jobsched_client._sync.io import monotonic, sleep
from jobsched_client.errors import (
    EmptyIdError,
    TransportError,
    UnexpectedAnswerError,
    WaitTimeoutError,
    problem_of,
)
from jobsched_client.models import (
    ENDED_JOB_STATUSES,
    GroupCreated,
    GroupOut,
    GroupWithJobs,
    JobCreated,
    JobDetailOut,
    JobOut,
    KeyCreated,
    KeyOut,
    LineageOut,
    LintOut,
    MovedJobOut,
    PageOut,
    PreviewOut,
    QueueItemOut,
    QueueOut,
    QueueStateOut,
    QueueStatsOut,
    ReservationOut,
    RunDedupOut,
    RunLogsOut,
    RunOut,
    RunsDiffOut,
    ScheduleDetailOut,
    ScheduleDryRunOut,
    ScheduleOut,
    TemplateDetailOut,
    TemplateOut,
    TemplateVersionOut,
    UsageReportOut,
)
from jobsched_client.retry import RetryPolicy, should_retry_error, should_retry_status
from jobsched_client.version import USER_AGENT

M = TypeVar("M", bound=BaseModel)
Body = Mapping[str, Any] | BaseModel
API_PREFIX = "/api/v2"
DEFAULT_TIMEOUT = 30.0
DEFAULT_POLL = 1.0


def api_base(url: str) -> str:
    """The deployment's URL as given (`http://127.0.0.1:8000`, an API Gateway stage URL, or
    either with `/api/v2`), ending in `/api/v2`."""
    base = url.strip().rstrip("/")
    return base if base.endswith(API_PREFIX) else base + API_PREFIX


def segment(value: str) -> str:
    """An id as one path segment: `/`, `?`, `#` or `..` in it cannot reach another route, and
    an empty one is refused (it would call the collection: `jobs/` for `jobs/<id>`)."""
    if not value:
        raise EmptyIdError("an id cannot be empty")
    quoted = quote(value, safe="")
    return quoted.replace(".", "%2E") if value in (".", "..") else quoted


def body_of(body: Body | None) -> Any:
    if body is None:
        return None
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json", exclude_unset=True)
    return dict(body)


def query(**params: Any) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


def compact(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


class Client:
    """A deployment's v2 API called with one key: `url` is the deployment's (with or without
    `/api/v2`), `key` a `jsk_<id>_<secret>`. Resources are attributes (`jobs`, `queue`, ...).

    Refusals raise `ProblemError` subclasses; 429 and 503 are retried after `Retry-After`;
    creates carry an `Idempotency-Key` so a retried create never makes two.
    """

    def __init__(
        self,
        url: str,
        key: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        self.url = api_base(url)
        self.retry = retry or RetryPolicy()
        self._http = http or httpx.Client(base_url=self.url, timeout=timeout, transport=transport)
        self._headers = {"Authorization": f"Bearer {key}", "User-Agent": USER_AGENT}
        self.templates = Templates(self)
        self.jobs = Jobs(self)
        self.queue = Queue(self)
        self.runs = Runs(self)
        self.groups = Groups(self)
        self.reservations = Reservations(self)
        self.schedules = Schedules(self)
        self.keys = Keys(self)
        self.usage = SyncUsage(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"  # never the key

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        """One call, retried as `retry` says; a refusal raises its `ProblemError`."""
        headers = dict(self._headers)
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        request = self._http.build_request(
            method, path.lstrip("/"), json=json, params=params, headers=headers
        )
        attempt = 1
        while True:
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                if attempt >= self.retry.attempts or not should_retry_error(request, exc):
                    raise TransportError(f"{method} {self.url}/{path.lstrip('/')}: {exc}") from exc
                sleep(self.retry.delay(attempt))
            else:
                if response.status_code < 400:
                    return response
                if attempt >= self.retry.attempts or not should_retry_status(
                    request, response.status_code
                ):
                    response.read()
                    raise problem_of(response)
                sleep(self.retry.delay(attempt, response.headers.get("retry-after")))
            attempt += 1

    def call(
        self,
        model: type[M],
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> M:
        response = self.send(
            method, path, json=json, params=params, idempotency_key=idempotency_key
        )
        return answer_of(model, response)

    def health(self) -> dict[str, Any]:
        """GET /health (no key needed): the deployment answers."""
        response = self.send("GET", self.url.removesuffix(API_PREFIX) + "/health")
        try:
            data: dict[str, Any] = response.json()
        except ValueError as exc:
            raise UnexpectedAnswerError(f"{response.request.url}: not JSON") from exc
        return data


def answer_of(model: type[M], response: httpx.Response) -> M:
    """The answer as `model`; one that is not the API's (a proxy's page, another server at the
    URL) is an `UnexpectedAnswerError`, never a validation traceback."""
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        request = response.request
        raise UnexpectedAnswerError(
            f"{request.method} {request.url.copy_with(query=None)}: {response.status_code} is not "
            f"an answer of the v2 API (no {model.__name__}: {exc.error_count()} errors)"
        ) from exc


def new_idempotency_key() -> str:
    return f"cli-{uuid.uuid4()}"


class Resource:
    def __init__(self, client: Client) -> None:
        self._client = client

    def _pages(self, model: type[PageOut[M]], path: str, params: Mapping[str, Any]) -> Iterator[M]:
        cursor: str | None = None
        while True:
            page = self._client.call(model, "GET", path, params={**params, "cursor": cursor})
            for item in page.items:
                yield item
            if not page.next_cursor:
                return
            cursor = page.next_cursor


class Templates(Resource):
    def list(self, *, limit: int | None = None, cursor: str | None = None) -> PageOut[TemplateOut]:
        return self._client.call(
            PageOut[TemplateOut], "GET", "templates", params=query(limit=limit, cursor=cursor)
        )

    def iter(self, *, page_size: int | None = None) -> Iterator[TemplateOut]:
        return self._pages(PageOut[TemplateOut], "templates", query(limit=page_size))

    def get(self, template_id: str) -> TemplateDetailOut:
        """With `budget_status`: what each budget has committed in its current period."""
        return self._client.call(TemplateDetailOut, "GET", f"templates/{segment(template_id)}")

    def create(self, template: Body) -> TemplateOut:
        """A template of its own id: a retry after a lost answer is a 409, never a second one."""
        return self._client.call(TemplateOut, "POST", "templates", json=body_of(template))

    def update(self, template_id: str, patch: Body) -> TemplateOut:
        return self._client.call(
            TemplateOut, "PATCH", f"templates/{segment(template_id)}", json=body_of(patch)
        )

    def archive(self, template_id: str) -> TemplateOut:
        return self._client.call(TemplateOut, "DELETE", f"templates/{segment(template_id)}")

    def restore(self, template_id: str) -> TemplateOut:
        return self._client.call(TemplateOut, "POST", f"templates/{segment(template_id)}/restore")

    def versions(self, template_id: str) -> Iterator[TemplateVersionOut]:
        path = f"templates/{segment(template_id)}/versions"
        return self._pages(PageOut[TemplateVersionOut], path, {})

    def version(self, template_id: str, version: int) -> TemplateVersionOut:
        return self._client.call(
            TemplateVersionOut, "GET", f"templates/{segment(template_id)}/versions/{int(version)}"
        )


class Jobs(Resource):
    def create(
        self,
        template_id: str,
        params: Mapping[str, Any] | None = None,
        *,
        priority: str | int | None = None,
        position: int | None = None,
        group_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> JobCreated:
        """Queue a job. `idempotency_key` defaults to a new one, sent again on a retry."""
        body = compact(
            template_id=template_id,
            params=dict(params) if params is not None else None,
            priority=priority,
            position=position,
            group_id=group_id,
        )
        return self._client.call(
            JobCreated,
            "POST",
            "jobs",
            json=body,
            idempotency_key=idempotency_key or new_idempotency_key(),
        )

    def list(
        self,
        *,
        status: str | None = None,
        template_id: str | None = None,
        schedule_id: str | None = None,
        group_id: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> PageOut[JobOut]:
        params = query(
            status=status,
            template_id=template_id,
            schedule_id=schedule_id,
            group_id=group_id,
            limit=limit,
            cursor=cursor,
        )
        return self._client.call(PageOut[JobOut], "GET", "jobs", params=params)

    def iter(
        self,
        *,
        status: str | None = None,
        template_id: str | None = None,
        schedule_id: str | None = None,
        group_id: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[JobOut]:
        params = query(
            status=status,
            template_id=template_id,
            schedule_id=schedule_id,
            group_id=group_id,
            limit=page_size,
        )
        return self._pages(PageOut[JobOut], "jobs", params)

    def get(self, job_id: str) -> JobDetailOut:
        return self._client.call(JobDetailOut, "GET", f"jobs/{segment(job_id)}")

    def cancel(self, job_id: str) -> JobOut:
        return self._client.call(JobOut, "POST", f"jobs/{segment(job_id)}/cancel")

    def hold(self, job_id: str, note: str | None = None) -> JobOut:
        return self._client.call(
            JobOut, "POST", f"jobs/{segment(job_id)}/hold", json=compact(note=note)
        )

    def release(self, job_id: str) -> JobOut:
        return self._client.call(JobOut, "POST", f"jobs/{segment(job_id)}/release")

    def runs(self, job_id: str) -> Iterator[RunOut]:
        return self._pages(PageOut[RunOut], f"jobs/{segment(job_id)}/runs", {})

    def rerun(
        self,
        job_id: str,
        params: Mapping[str, Any] | None = None,
        *,
        priority: str | int | None = None,
        position: int | None = None,
        idempotency_key: str | None = None,
    ) -> JobCreated:
        """Queue the job again as a new job (its `rerun_of` names this one), with its template
        at the version it ran with; `params` replace those keys of its params, its priority
        holds unless `priority` is given. `idempotency_key` defaults to a new one."""
        body = compact(
            params=dict(params) if params is not None else None,
            priority=priority,
            position=position,
        )
        return self._client.call(
            JobCreated,
            "POST",
            f"jobs/{segment(job_id)}/rerun",
            json=body,
            idempotency_key=idempotency_key or new_idempotency_key(),
        )

    def lineage(self, job_id: str) -> LineageOut:
        """The tree of reruns the job belongs to, from its first job, oldest first."""
        return self._client.call(LineageOut, "GET", f"jobs/{segment(job_id)}/lineage")

    def wait(
        self,
        job_id: str,
        *,
        timeout: float | None = None,
        poll: float = DEFAULT_POLL,
        on_change: Callable[[JobDetailOut], None] | None = None,
        until: Callable[[JobDetailOut], bool] | None = None,
    ) -> JobDetailOut:
        """Poll until the job has ended (finished or cancelled), or `until` holds of it, and
        return it; `on_change` sees each new state (status, position, ETA). Raises
        `WaitTimeoutError` after `timeout`."""
        deadline = None if timeout is None else monotonic() + timeout
        seen: str | None = None
        while True:
            job = self.get(job_id)
            state = job.model_dump_json(include={"status", "queue_position", "eta", "attempt"})
            if on_change is not None and state != seen:
                on_change(job)
            seen = state
            if job.status in ENDED_JOB_STATUSES or (until is not None and until(job)):
                return job
            if deadline is not None and monotonic() >= deadline:
                raise WaitTimeoutError(f"job {job_id} is still {job.status} after {timeout:g} s")
            sleep(poll)


class Queue(Resource):
    def view(self, *, limit: int | None = None, cursor: str | None = None) -> QueueOut:
        """One page of the queue in the order it will run, with each unit's ETA."""
        return self._client.call(QueueOut, "GET", "queue", params=query(limit=limit, cursor=cursor))

    def iter(self, *, page_size: int | None = None) -> Iterator[QueueItemOut]:
        return self._pages(QueueOut, "queue", query(limit=page_size))

    def stats(self) -> QueueStatsOut:
        return self._client.call(QueueStatsOut, "GET", "queue/stats")

    def preview(self, change: Body) -> PreviewOut:
        """What a change would do to the order and ETAs (`{"move": {...}}`, `{"priority":
        {...}}`, `{"reorder": {...}}`, `{"new_job": {...}}`, `{"cancel": ...}`, `{"hold": ...}`),
        writing nothing."""
        return self._client.call(PreviewOut, "POST", "queue/preview", json=body_of(change))

    def move(
        self,
        job_id: str,
        *,
        position: int | None = None,
        before: str | None = None,
        after: str | None = None,
    ) -> MovedJobOut:
        body = compact(position=position, before=before, after=after)
        return self._client.call(MovedJobOut, "POST", f"queue/{segment(job_id)}/move", json=body)

    def set_priority(self, job_id: str, priority: str | int) -> JobOut:
        return self._client.call(
            JobOut, "POST", f"queue/{segment(job_id)}/priority", json={"priority": priority}
        )

    def reorder(self, job_ids: Sequence[str]) -> PageOut[MovedJobOut]:
        return self._client.call(
            PageOut[MovedJobOut], "POST", "queue/reorder", json={"job_ids": list(job_ids)}
        )

    def pause(self, note: str | None = None) -> QueueStateOut:
        return self._client.call(QueueStateOut, "POST", "queue/pause", json=compact(note=note))

    def resume(self, note: str | None = None) -> QueueStateOut:
        return self._client.call(QueueStateOut, "POST", "queue/resume", json=compact(note=note))


class Runs(Resource):
    def list(
        self,
        *,
        status: str | None = None,
        job_id: str | None = None,
        template_id: str | None = None,
        schedule_id: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> PageOut[RunOut]:
        params = query(
            status=status,
            job_id=job_id,
            template_id=template_id,
            schedule_id=schedule_id,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
        )
        return self._client.call(PageOut[RunOut], "GET", "runs", params=params)

    def iter(
        self,
        *,
        status: str | None = None,
        job_id: str | None = None,
        template_id: str | None = None,
        schedule_id: str | None = None,
        since: str | None = None,
        until: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[RunOut]:
        params = query(
            status=status,
            job_id=job_id,
            template_id=template_id,
            schedule_id=schedule_id,
            since=since,
            until=until,
            limit=page_size,
        )
        return self._pages(PageOut[RunOut], "runs", params)

    def get(self, run_id: str) -> RunOut:
        return self._client.call(RunOut, "GET", f"runs/{segment(run_id)}")

    def logs(
        self, run_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> RunLogsOut:
        """One page of the run's log lines from `cursor` on; its `next_cursor` reads on."""
        return self._client.call(
            RunLogsOut,
            "GET",
            f"runs/{segment(run_id)}/logs",
            params=query(limit=limit, cursor=cursor),
        )

    def follow_logs(
        self,
        run_id: str,
        *,
        poll: float = DEFAULT_POLL,
        timeout: float | None = None,
        cursor: str | None = None,
    ) -> Iterator[str]:
        """Every log line of the run, as it is written, until the run has ended and its log is
        read to the end. Raises `WaitTimeoutError` after `timeout` (the run goes on)."""
        deadline = None if timeout is None else monotonic() + timeout
        ended = False
        while True:
            page = self.logs(run_id, cursor=cursor)
            for line in page.lines:
                yield line
            cursor = page.next_cursor or cursor
            if page.lines:
                continue
            if ended:
                return
            # Read once more after the end is seen: lines written just before it are not lost.
            ended = (self.get(run_id)).finished_at is not None
            if ended:
                continue
            if deadline is not None and monotonic() >= deadline:
                raise WaitTimeoutError(f"run {run_id} is still going after {timeout:g} s")
            sleep(poll)

    def artifact(self, run_id: str, index: int) -> tuple[str, bytes]:
        """The run's artifact at `index` of its `artifacts`: its file name and its bytes."""
        response = self._client.send("GET", f"runs/{segment(run_id)}/artifacts/{int(index)}")
        return filename_of(response, f"artifact-{index}"), response.content

    def diff(self, run_id: str, against: str, *, name: str | None = None) -> RunsDiffOut:
        """What changed from run `against` to `run_id`: with `name`, that text artifact's
        unified diff; without, which artifacts are identical, changed, added or removed."""
        return self._client.call(
            RunsDiffOut,
            "GET",
            f"runs/{segment(run_id)}/artifacts/diff",
            params=query(against=against, name=name),
        )

    def dedup_check(self, run_id: str, body: Body | None = None) -> RunDedupOut:
        return self._client.call(
            RunDedupOut, "POST", f"runs/{segment(run_id)}/dedup-check", json=body_of(body) or {}
        )


def filename_of(response: httpx.Response, default: str) -> str:
    disposition = response.headers.get("content-disposition", "")
    for part in disposition.split(";"):
        name, _, value = part.strip().partition("=")
        if name.lower() == "filename" and value:
            return value.strip('"').replace("/", "_").replace("\\", "_") or default
    return default


class Groups(Resource):
    def create(self, group: Body, *, idempotency_key: str | None = None) -> GroupCreated:
        """A group of jobs (`{"jobs": [...], "mode": "sequential", ...}`), as one create."""
        return self._client.call(
            GroupCreated,
            "POST",
            "groups",
            json=body_of(group),
            idempotency_key=idempotency_key or new_idempotency_key(),
        )

    def list(self, *, limit: int | None = None, cursor: str | None = None) -> PageOut[GroupOut]:
        return self._client.call(
            PageOut[GroupOut], "GET", "groups", params=query(limit=limit, cursor=cursor)
        )

    def iter(self, *, page_size: int | None = None) -> Iterator[GroupOut]:
        return self._pages(PageOut[GroupOut], "groups", query(limit=page_size))

    def get(self, group_id: str) -> GroupOut:
        return self._client.call(GroupOut, "GET", f"groups/{segment(group_id)}")

    def cancel(self, group_id: str) -> GroupOut:
        return self._client.call(GroupOut, "POST", f"groups/{segment(group_id)}/cancel")

    def hold(self, group_id: str, note: str | None = None) -> GroupWithJobs:
        return self._client.call(
            GroupWithJobs, "POST", f"groups/{segment(group_id)}/hold", json=compact(note=note)
        )

    def release(self, group_id: str) -> GroupWithJobs:
        return self._client.call(GroupWithJobs, "POST", f"groups/{segment(group_id)}/release")


class Reservations(Resource):
    def get(self, reservation_id: str) -> ReservationOut:
        return self._client.call(ReservationOut, "GET", f"reservations/{segment(reservation_id)}")

    def logs(
        self, reservation_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> RunLogsOut:
        return self._client.call(
            RunLogsOut,
            "GET",
            f"reservations/{segment(reservation_id)}/logs",
            params=query(limit=limit, cursor=cursor),
        )


class Schedules(Resource):
    def create(
        self, schedule: Body, *, dry_run: bool = False, idempotency_key: str | None = None
    ) -> ScheduleOut:
        """A schedule; with `dry_run`, the schedule as it would be and the lint's warnings
        (a `ScheduleDryRunOut`), writing nothing."""
        response = self._client.send(
            "POST",
            "schedules",
            json=body_of(schedule),
            params=query(dry_run="true" if dry_run else None),
            idempotency_key=None if dry_run else idempotency_key or new_idempotency_key(),
        )
        return schedule_of(response)

    def list(
        self,
        *,
        template_id: str | None = None,
        next_runs: int | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> PageOut[ScheduleOut]:
        params = query(template_id=template_id, next_runs=next_runs, limit=limit, cursor=cursor)
        return self._client.call(PageOut[ScheduleOut], "GET", "schedules", params=params)

    def iter(
        self, *, template_id: str | None = None, page_size: int | None = None
    ) -> Iterator[ScheduleOut]:
        params = query(template_id=template_id, limit=page_size)
        return self._pages(PageOut[ScheduleOut], "schedules", params)

    def get(self, schedule_id: str, *, next_runs: int | None = None) -> ScheduleDetailOut:
        """With `budget_status`: what each of its own budgets has committed in its period."""
        return self._client.call(
            ScheduleDetailOut,
            "GET",
            f"schedules/{segment(schedule_id)}",
            params=query(next_runs=next_runs),
        )

    def update(self, schedule_id: str, patch: Body, *, dry_run: bool = False) -> ScheduleOut:
        response = self._client.send(
            "PATCH",
            f"schedules/{segment(schedule_id)}",
            json=body_of(patch),
            params=query(dry_run="true" if dry_run else None),
        )
        return schedule_of(response)

    def delete(self, schedule_id: str) -> None:
        self._client.send("DELETE", f"schedules/{segment(schedule_id)}")

    def enable(self, schedule_id: str) -> ScheduleOut:
        return self._client.call(ScheduleOut, "POST", f"schedules/{segment(schedule_id)}/enable")

    def disable(self, schedule_id: str, note: str | None = None) -> ScheduleOut:
        return self._client.call(
            ScheduleOut,
            "POST",
            f"schedules/{segment(schedule_id)}/disable",
            json=compact(note=note),
        )

    def trigger(
        self, schedule_id: str, *, force: bool = False, idempotency_key: str | None = None
    ) -> JobCreated:
        """Fire it now (a manual run); `force` runs even where the overlap policy would skip."""
        return self._client.call(
            JobCreated,
            "POST",
            f"schedules/{segment(schedule_id)}/trigger",
            json={"force": force},
            idempotency_key=idempotency_key or new_idempotency_key(),
        )

    def lint(self, schedule: Body) -> LintOut:
        """What would surprise in a schedule (DST gaps, busy minutes, lost catch-ups...)."""
        return self._client.call(LintOut, "POST", "schedules/lint", json=body_of(schedule))


def schedule_of(response: httpx.Response) -> ScheduleOut:
    try:
        data = response.json()
    except ValueError:
        data = None  # not JSON: answer_of says so
    dry_run = isinstance(data, dict) and "warnings" in data
    return answer_of(ScheduleDryRunOut if dry_run else ScheduleOut, response)


class Keys(Resource):
    def me(self) -> KeyOut:
        """The key this client calls with (never its secret)."""
        return self._client.call(KeyOut, "GET", "keys/me")

    def list(self) -> PageOut[KeyOut]:
        return self._client.call(PageOut[KeyOut], "GET", "keys")

    def create(self, name: str, scopes: Sequence[str]) -> KeyCreated:
        """A new key; its `secret` is in this answer only."""
        return self._client.call(
            KeyCreated, "POST", "keys", json={"name": name, "scopes": list(scopes)}
        )

    def revoke(self, key_id: str) -> KeyOut:
        return self._client.call(KeyOut, "POST", f"keys/{segment(key_id)}/revoke")


class SyncUsage(Resource):
    def get(
        self,
        by: str = "template",
        *,
        since: str | None = None,
        until: str | None = None,
    ) -> UsageReportOut:
        """Tokens and US$ of the runs that ended in [since, until] (ISO 8601 with a zone;
        default: the last 24 hours), per template or per schedule, in whole UTC hours."""
        params = query(by=by, since=since, until=until)
        return self._client.call(UsageReportOut, "GET", "usage", params=params)
