"""The clients' retries (jobsched_client/_async/client.py `send`, and the sync one generated
from it) against answers made in process by httpx.MockTransport: nothing leaves the test.
The waits are recorded, not slept."""

from collections.abc import Callable, Iterator

import httpx
import pytest

from jobsched_client import (
    AsyncClient,
    Client,
    ProblemError,
    RetryPolicy,
    ServerError,
    TransportError,
    UnavailableError,
    UnexpectedAnswerError,
    ValidationFailedError,
)
from jobsched_client._async import client as async_module
from jobsched_client._sync import client as sync_module
from jobsched_client.models import JobCreated, KeyOut

BASE = "http://deployment.test"
KEY = "jsk_unit1_secret"
POLICY = RetryPolicy(attempts=3, backoff=0.25, max_wait=5.0)
NOW = "2026-01-01T00:00:00Z"
JOB = {
    "job_id": "j_1",
    "template_id": "echo",
    "template_name": "Echo",
    "schedule_id": None,
    "group_id": None,
    "params": {},
    "status": "queued",
    "queue_position": 1,
    "priority": "normal",
    "attempt": 0,
    "created_at": NOW,
    "updated_at": NOW,
    "finished_at": None,
    "run": None,
}
ME = {"key_id": "unit1", "name": "unit", "scopes": ["read"], "created_at": NOW, "revoked_at": None}
PROBLEM = {"Content-Type": "application/problem+json"}

Answer = httpx.Response | Exception


class Deployment:
    """Answers in the order given (the last one again when they run out); keeps each request."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def problem(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"title": "No", "status": status}, headers=PROBLEM | headers)


def lost(kind: Callable[..., httpx.TransportError]) -> httpx.TransportError:
    return kind("lost", request=httpx.Request("GET", BASE))


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waited: list[float] = []
    monkeypatch.setattr(sync_module, "sleep", waited.append)

    async def no_wait(seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(async_module, "sleep", no_wait)
    return waited


@pytest.fixture
def connect(waits: list[float]) -> Iterator[Callable[[Deployment], Client]]:
    opened: list[Client] = []

    def make(deployment: Deployment) -> Client:
        client = Client(BASE, KEY, transport=httpx.MockTransport(deployment), retry=POLICY)
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.close()


def test_the_answer_bodies_here_are_the_apis() -> None:
    assert JobCreated.model_validate(JOB).job_id == "j_1"
    assert KeyOut.model_validate(ME).key_id == "unit1"


def test_a_503_is_retried_after_its_retry_after_with_the_same_idempotency_key(
    connect: Callable[[Deployment], Client], waits: list[float]
) -> None:
    deployment = Deployment(problem(503, **{"Retry-After": "2"}), httpx.Response(201, json=JOB))

    created = connect(deployment).jobs.create("echo", {"message": "hi"})

    assert created.job_id == "j_1"
    sent = [r.headers.get("idempotency-key") for r in deployment.requests]
    assert len(sent) == 2
    assert sent[0] is not None
    assert sent[0] == sent[1]
    assert deployment.requests[0].content == deployment.requests[1].content
    assert waits == [2.0]


def test_each_create_has_its_own_idempotency_key_and_a_given_one_is_kept(
    connect: Callable[[Deployment], Client],
) -> None:
    deployment = Deployment(httpx.Response(201, json=JOB))
    client = connect(deployment)

    client.jobs.create("echo")
    client.jobs.create("echo")
    client.jobs.create("echo", idempotency_key="mine-1")

    keys = [r.headers["idempotency-key"] for r in deployment.requests]
    assert keys[0] != keys[1]
    assert keys[2] == "mine-1"
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in deployment.requests)


def test_a_rerun_is_sent_again_after_a_lost_answer_with_the_same_key(
    connect: Callable[[Deployment], Client], waits: list[float]
) -> None:
    deployment = Deployment(lost(httpx.ReadTimeout), httpx.Response(201, json=JOB))

    again = connect(deployment).jobs.rerun("j_0", {"count": 2}, priority="high")

    assert again.job_id == "j_1"
    first, second = deployment.requests
    assert first.url.path == "/api/v2/jobs/j_0/rerun"
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert first.content == second.content == b'{"params":{"count":2},"priority":"high"}'
    assert len(waits) == 1


def test_a_post_without_idempotency_key_is_not_sent_again_after_a_lost_answer(
    connect: Callable[[Deployment], Client], waits: list[float]
) -> None:
    deployment = Deployment(lost(httpx.ReadTimeout), httpx.Response(200, json=JOB))

    with pytest.raises(TransportError, match=r"POST .*/jobs/j_1/cancel"):
        connect(deployment).jobs.cancel("j_1")

    assert len(deployment.requests) == 1  # it may have been cancelled: never twice
    assert waits == []


def test_a_get_is_sent_again_after_a_lost_answer(
    connect: Callable[[Deployment], Client], waits: list[float]
) -> None:
    deployment = Deployment(lost(httpx.ReadTimeout), httpx.Response(200, json=ME))

    assert connect(deployment).keys.me().name == "unit"
    assert len(deployment.requests) == 2
    assert len(waits) == 1
    assert 0.125 <= waits[0] <= 0.25  # the first backoff, jittered


def test_a_refused_connection_is_retried_even_for_a_post(
    connect: Callable[[Deployment], Client],
) -> None:
    deployment = Deployment(lost(httpx.ConnectError), httpx.Response(200, json=JOB))

    assert connect(deployment).jobs.cancel("j_1").job_id == "j_1"
    assert len(deployment.requests) == 2


def test_attempts_are_bounded(connect: Callable[[Deployment], Client], waits: list[float]) -> None:
    always = Deployment(problem(503, **{"Retry-After": "1"}))

    with pytest.raises(UnavailableError) as raised:
        connect(always).keys.me()

    assert len(always.requests) == POLICY.attempts
    assert waits == [1.0] * (POLICY.attempts - 1)
    assert raised.value.retry_after == "1"

    unreachable = Deployment(lost(httpx.ConnectError))
    with pytest.raises(TransportError):
        connect(unreachable).keys.me()
    assert len(unreachable.requests) == POLICY.attempts


def test_a_429_is_retried(connect: Callable[[Deployment], Client], waits: list[float]) -> None:
    deployment = Deployment(problem(429, **{"Retry-After": "60"}), httpx.Response(200, json=ME))

    assert connect(deployment).keys.me().key_id == "unit1"
    assert waits == [POLICY.max_wait]  # a Retry-After over max_wait waits max_wait


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 500])
def test_a_refusal_is_never_retried(
    connect: Callable[[Deployment], Client], status: int, waits: list[float]
) -> None:
    deployment = Deployment(problem(status), httpx.Response(201, json=JOB))

    with pytest.raises(ProblemError) as raised:
        connect(deployment).jobs.create("echo")

    assert raised.value.status == status
    assert len(deployment.requests) == 1
    assert waits == []


def test_a_422_carries_its_field_errors(connect: Callable[[Deployment], Client]) -> None:
    body = {"title": "Invalid", "errors": [{"field": "params.n", "message": "not an integer"}]}
    deployment = Deployment(httpx.Response(422, json=body, headers=PROBLEM))

    with pytest.raises(ValidationFailedError) as raised:
        connect(deployment).jobs.create("echo", {"n": "x"})

    assert [(e.field, e.message) for e in raised.value.errors] == [("params.n", "not an integer")]


def test_a_gateways_502_is_retried_only_where_a_replay_is_harmless(
    connect: Callable[[Deployment], Client],
) -> None:
    plain_post = Deployment(problem(502), httpx.Response(200, json=JOB))
    with pytest.raises(ServerError):
        connect(plain_post).jobs.cancel("j_1")
    assert len(plain_post.requests) == 1

    create = Deployment(problem(502), httpx.Response(201, json=JOB))
    assert connect(create).jobs.create("echo").job_id == "j_1"
    assert len(create.requests) == 2


def test_an_answer_that_is_not_the_apis_is_a_clear_error(
    connect: Callable[[Deployment], Client],
) -> None:
    page = Deployment(httpx.Response(200, text="<html>welcome</html>"))

    with pytest.raises(UnexpectedAnswerError, match="200 is not an answer of the v2 API"):
        connect(page).keys.me()
    with pytest.raises(UnexpectedAnswerError):
        connect(page).schedules.get("s_1")


@pytest.mark.anyio
async def test_the_async_client_retries_a_create_with_the_same_key(waits: list[float]) -> None:
    deployment = Deployment(problem(503, **{"Retry-After": "3"}), httpx.Response(201, json=JOB))
    transport = httpx.MockTransport(deployment)

    async with AsyncClient(BASE, KEY, transport=transport, retry=POLICY) as client:
        created = await client.jobs.create("echo")

    assert created.job_id == "j_1"
    first, second = (r.headers["idempotency-key"] for r in deployment.requests)
    assert first == second
    assert waits == [3.0]


@pytest.mark.anyio
async def test_the_async_client_does_not_replay_a_plain_post(waits: list[float]) -> None:
    deployment = Deployment(lost(httpx.ReadTimeout))
    transport = httpx.MockTransport(deployment)

    async with AsyncClient(BASE, KEY, transport=transport, retry=POLICY) as client:
        with pytest.raises(TransportError):
            await client.queue.pause()

    assert len(deployment.requests) == 1
