"""Delivery against a real HTTP server on 127.0.0.1 (allowed for these tests by the setting)."""

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import SecretStr

from jobsched.jobs.groups import GroupCreate, GroupJobSpec, create_group
from jobsched.models import GroupStatus, JobGroup, utcnow
from jobsched.models.instants import rfc3339
from jobsched.ports import Stores
from jobsched.settings import Settings
from jobsched.webhooks import (
    DeliveryStatus,
    deliver,
    group_finished_payload,
    notify_group_finished,
    verify,
)
from tests.support.waiting import BOUND_SECONDS

SECRET = "whsec_test"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str


@dataclass
class Receiver:
    """Answers with the scripted (status, headers) in turn, then 200; records every request."""

    url: str
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.received.append(Received(dict(self.headers.items()), body, self.path))
            status, headers = state.script.pop(0) if state.script else (200, {})
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/batch?token=t"
    yield state
    server.shutdown()
    server.server_close()


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_503_twice_then_200_takes_three_attempts_with_backoff(receiver: Receiver) -> None:
    receiver.script = [(503, {}), (503, {})]
    sleeps = Sleeps()
    result = deliver(receiver.url, {"a": 1}, SECRET, backoff=0.01, allow_private=True, sleep=sleeps)
    assert result.status == DeliveryStatus.DELIVERED
    assert result.delivered
    assert (result.attempts, result.status_code) == (3, 200)
    assert sleeps == [0.01, 0.02]
    assert len(receiver.received) == 3
    ids = {r.headers["X-Jobsched-Delivery"] for r in receiver.received}
    assert len(ids) == 1  # the same delivery id on every retry, so a receiver can dedupe


def test_400_is_not_retried(receiver: Receiver) -> None:
    receiver.script = [(400, {})]
    result = deliver(receiver.url, {"a": 1}, SECRET, backoff=0.01, allow_private=True)
    assert result.status == DeliveryStatus.FAILED
    assert (result.attempts, result.status_code, result.error) == (1, 400, "HTTP 400")
    assert len(receiver.received) == 1


def test_a_redirect_is_not_followed(receiver: Receiver) -> None:
    receiver.script = [(302, {"Location": "http://169.254.169.254/latest/meta-data/"})]
    result = deliver(receiver.url, {"a": 1}, SECRET, backoff=0.01, allow_private=True)
    assert (result.status, result.attempts, result.status_code) == (DeliveryStatus.FAILED, 1, 302)


def test_retry_after_is_honoured_up_to_the_cap(receiver: Receiver) -> None:
    receiver.script = [(429, {"Retry-After": "2"}), (503, {"Retry-After": "3600"})]
    sleeps = Sleeps()
    result = deliver(
        receiver.url,
        {"a": 1},
        SECRET,
        backoff=0.01,
        max_backoff=5.0,
        allow_private=True,
        sleep=sleeps,
    )
    assert (result.status, result.attempts) == (DeliveryStatus.DELIVERED, 3)
    assert sleeps == [2.0, 5.0]


def test_retry_after_really_waits(receiver: Receiver) -> None:
    receiver.script = [(429, {"Retry-After": "1"})]
    result = deliver(receiver.url, {"a": 1}, SECRET, backoff=0.01, allow_private=True)
    assert result.attempts == 2
    assert len(receiver.received) == 2


def test_attempts_run_out(receiver: Receiver) -> None:
    receiver.script = [(500, {})] * 3
    sleeps = Sleeps()
    result = deliver(
        receiver.url, {}, SECRET, attempts=3, backoff=0.01, allow_private=True, sleep=sleeps
    )
    assert (result.status, result.attempts, result.status_code) == (DeliveryStatus.FAILED, 3, 500)
    assert sleeps == [0.01, 0.02]  # no wait after the last attempt


def test_network_errors_are_retried() -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleeps = Sleeps()
    result = deliver(
        f"http://127.0.0.1:{port}/", {}, SECRET, attempts=2, allow_private=True, sleep=sleeps
    )
    assert (result.status, result.attempts, result.status_code) == (DeliveryStatus.FAILED, 2, None)
    assert result.error is not None
    assert "ConnectError" in result.error
    assert len(sleeps) == 1


def test_loopback_is_refused_without_the_setting(receiver: Receiver) -> None:
    result = deliver(receiver.url, {"a": 1}, SECRET, allow_private=False)
    assert (result.status, result.attempts) == (DeliveryStatus.REFUSED, 0)
    assert result.error is not None
    assert "loopback" in result.error
    assert receiver.received == []


def test_the_receiver_sees_a_valid_signature(receiver: Receiver) -> None:
    payload = {"event": "group.finished", "group_id": "grp_1", "job_ids": ["job_1"]}
    deliver(receiver.url, payload, SecretStr(SECRET), allow_private=True)
    (request,) = receiver.received
    assert request.path == "/hooks/batch?token=t"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Host"] == receiver.url.split("/")[2]
    assert json.loads(request.body) == payload
    assert verify(
        request.body,
        SECRET,
        request.headers["X-Jobsched-Timestamp"],
        request.headers["X-Jobsched-Signature"],
    )
    assert not verify(
        request.body,
        "wrong",
        request.headers["X-Jobsched-Timestamp"],
        request.headers["X-Jobsched-Signature"],
    )


def test_the_connection_is_pinned_to_the_checked_address(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS answers 127.0.0.1 at the check; the connection goes there, with the host's name."""
    import socket

    port = int(receiver.url.split(":")[2].split("/")[0])
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host: str, *args: object, **kwargs: object) -> object:
        asked.append(host)
        if host == "hooks.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    result = deliver(f"http://hooks.example:{port}/h", {}, SECRET, allow_private=True)
    assert result.delivered
    assert asked.count("hooks.example") == 1  # resolved once, by the guard; never by httpx
    assert receiver.received[0].headers["Host"] == f"hooks.example:{port}"


def _group(url: str | None, status: GroupStatus = GroupStatus.PARTIAL) -> JobGroup:
    return JobGroup(
        group_id="grp_1",
        name="nightly",
        job_ids=["job_1", "job_2"],
        status=status,
        completed=1,
        failed=1,
        webhook_url=url,
        finished_at=utcnow(),
    )


def _settings(**overrides: object) -> Settings:
    values: dict[str, object] = {"webhook_secret": SECRET, "webhook_allow_private": True}
    return Settings.model_validate(values | overrides)


def test_group_finished_payload() -> None:
    group = _group("https://x.example/")
    assert group_finished_payload(group) == {
        "event": "group.finished",
        "group_id": "grp_1",
        "name": "nightly",
        "status": "partial",
        "completed": 1,
        "failed": 1,
        "finished_at": rfc3339(group.finished_at) if group.finished_at else None,
        "job_ids": ["job_1", "job_2"],
    }


def test_notify_sends_for_an_ended_group(receiver: Receiver) -> None:
    result = notify_group_finished(_group(receiver.url), _settings())
    assert result is not None
    assert result.delivered
    (request,) = receiver.received
    assert json.loads(request.body)["event"] == "group.finished"
    assert verify(
        request.body,
        SECRET,
        request.headers["X-Jobsched-Timestamp"],
        request.headers["X-Jobsched-Signature"],
    )


def test_notify_sends_nothing_without_a_url_or_before_the_end(receiver: Receiver) -> None:
    assert notify_group_finished(_group(None), _settings()) is None
    assert notify_group_finished(_group(receiver.url, GroupStatus.RUNNING), _settings()) is None
    assert receiver.received == []


def test_notify_without_a_secret_refuses(receiver: Receiver) -> None:
    result = notify_group_finished(_group(receiver.url), _settings(webhook_secret=None))
    assert result is not None
    assert result.status == DeliveryStatus.REFUSED
    assert receiver.received == []


def test_notify_refuses_loopback_by_default(receiver: Receiver) -> None:
    result = notify_group_finished(_group(receiver.url), _settings(webhook_allow_private=False))
    assert result is not None
    assert result.status == DeliveryStatus.REFUSED
    assert receiver.received == []


def test_notify_reads_the_group_from_the_stores(
    stores: Stores, echo_template: str, receiver: Receiver
) -> None:
    group, _ = create_group(
        stores,
        GroupCreate(webhook_url=receiver.url, jobs=[GroupJobSpec(template_id=echo_template)]),
    )
    ended = group.model_copy(
        update={"status": GroupStatus.COMPLETED, "completed": 1, "finished_at": utcnow()}
    )
    stores.groups.set_status(ended)
    result = notify_group_finished(stores, _settings(), group_id=group.group_id)
    assert result is not None
    assert result.delivered
    body = json.loads(receiver.received[0].body)
    assert (body["group_id"], body["status"], body["job_ids"]) == (
        group.group_id,
        "completed",
        group.job_ids,
    )


def test_importing_the_package_does_not_import_httpx() -> None:
    code = "import sys, jobsched.webhooks; print('httpx' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=BOUND_SECONDS,
    )
    assert result.stdout.strip() == "False"
