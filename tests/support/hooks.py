"""A webhook receiver on 127.0.0.1 that records requests and checks their signatures, and
groups that have ended, for the notifier tests (test_sender.py keeps its own scripted one)."""

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import SecretStr

from jobsched.jobs.groups import GroupCreate, GroupJobSpec, create_group
from jobsched.models import GroupStatus, JobGroup, utcnow
from jobsched.ports import Stores
from jobsched.settings import Settings
from jobsched.webhooks import verify
from tests.support.waiting import BOUND_SECONDS

SECRET = "whsec_notify_test"


@dataclass(frozen=True)
class Hook:
    body: bytes
    headers: dict[str, str]
    signed: bool  # verified with jobsched.webhooks.signing, as a receiver would


@dataclass
class HookServer:
    url: str = ""
    hooks: list[Hook] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = BOUND_SECONDS) -> list[Hook]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.hooks) >= count, timeout)
        return list(self.hooks)


@pytest.fixture
def hook_server() -> Iterator[HookServer]:
    state = HookServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            signed = verify(
                body,
                SECRET,
                self.headers.get("X-Jobsched-Timestamp", ""),
                self.headers.get("X-Jobsched-Signature", ""),
            )
            with state.arrived:  # recorded before the answer: a sender that has it sees it
                state.hooks.append(Hook(body, dict(self.headers.items()), signed))
                state.arrived.notify_all()
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/group"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    """The test stores' settings, with a secret and loopback allowed (the receiver's)."""
    return settings.model_copy(
        update={"webhook_secret": SecretStr(SECRET), "webhook_allow_private": True}
    )


@pytest.fixture
def ended_group(stores: Stores, echo_template: str) -> Callable[..., JobGroup]:
    """Make a group of one echo job with this webhook_url, and end it with this status."""

    def make(url: str | None, status: GroupStatus = GroupStatus.COMPLETED) -> JobGroup:
        group, _ = create_group(
            stores, GroupCreate(webhook_url=url, jobs=[GroupJobSpec(template_id=echo_template)])
        )
        ended = group.model_copy(update={"status": status, "finished_at": utcnow()})
        stores.groups.set_status(ended)
        return ended

    return make
