"""A group's webhook URL is checked when the group is created: one no webhook could go to is a
422 that writes nothing; the answer warns when no signing key would let it be sent."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from jobsched.settings import get_settings
from tests.support.api import V2, assert_problem


@pytest.fixture
def signed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("JOBSCHED_WEBHOOK_SECRET", "whsec-test")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _group(echo_template: str, url: str) -> dict[str, object]:
    return {"webhook_url": url, "jobs": [{"template_id": echo_template}]}


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://hooks.example.com/done", "http or https"),
        ("https://user:pw@hooks.example.com/done", "credentials"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://127.0.0.1:9/hook", "loopback"),
        ("http://10.0.0.7/hook", "private"),
        ("https:///no-host", "no host"),
    ],
)
def test_a_url_no_webhook_could_go_to_is_refused_at_create_and_nothing_is_written(
    client: TestClient, echo_template: str, url: str, why: str
) -> None:
    body = assert_problem(
        client.post(f"{V2}/groups", json=_group(echo_template, url)), 422, "webhook_url"
    )
    assert why in body["detail"]
    assert client.get(f"{V2}/groups").json()["items"] == []
    assert client.get(f"{V2}/queue").json()["items"] == []
    legacy = client.post(
        "/jobs/batch/trigger", json={"webhook_url": url, "jobs": [{"job_type": echo_template}]}
    )
    assert_problem(legacy, 422, "webhook_url")
    assert client.get(f"{V2}/groups").json()["items"] == []


def test_a_name_that_does_not_resolve_yet_is_accepted_and_checked_again_at_send(
    client: TestClient, echo_template: str, signed: None
) -> None:
    response = client.post(
        f"{V2}/groups", json=_group(echo_template, "https://hooks.invalid/done?token=t")
    )
    assert response.status_code == 201, response.text
    assert response.json()["warnings"] == []
    assert response.json()["webhook"] is None  # not sent yet


def test_without_a_signing_key_the_answer_says_the_webhook_will_not_be_sent(
    client: TestClient, echo_template: str
) -> None:
    get_settings.cache_clear()
    response = client.post(f"{V2}/groups", json=_group(echo_template, "https://hooks.invalid/x"))
    assert response.status_code == 201, response.text
    [warning] = response.json()["warnings"]
    assert "signing key" in warning
    plain = client.post(f"{V2}/groups", json={"jobs": [{"template_id": echo_template}]})
    assert plain.json()["warnings"] == []  # no webhook, nothing to warn of
