"""A template's versions (each kept as saved) and the restore of an archived template."""

from typing import Any

from fastapi.testclient import TestClient

from jobsched.dispatch.dispatcher import DispatchConfig, Dispatcher
from jobsched.ports import Stores
from tests.support.api import V2, all_pages, assert_problem, post_job, post_template


def versions(client: TestClient, template_id: str, limit: int = 50) -> list[dict[str, Any]]:
    pages = all_pages(client, f"{V2}/templates/{template_id}/versions", limit=limit)
    return [version for page in pages for version in page]


def test_every_version_is_kept_as_it_was_saved(client: TestClient) -> None:
    first = post_template(client, "t", default_params={"n": 1}, cpu=256, memory=512)
    client.patch(f"{V2}/templates/t", json={"name": "Second", "default_params": {"n": 2}})
    client.patch(f"{V2}/templates/t", json={"cpu": 512, "memory": 1024})

    one = client.get(f"{V2}/templates/t/versions/1")
    two = client.get(f"{V2}/templates/t/versions/2").json()
    three = client.get(f"{V2}/templates/t/versions/3").json()

    assert one.status_code == 200
    assert {key: one.json()[key] for key in ("name", "default_params", "cpu", "version")} == {
        "name": "T",
        "default_params": {"n": 1},
        "cpu": 256,
        "version": 1,
    }
    assert one.json()["updated_at"] == first["updated_at"]
    assert (two["name"], two["default_params"], two["cpu"]) == ("Second", {"n": 2}, 256)
    assert (three["cpu"], three["memory"]) == (512, 1024)
    current = client.get(f"{V2}/templates/t").json()
    assert {k: v for k, v in current.items() if k not in ("archived", "budget_status")} == three


def test_versions_are_listed_newest_first_page_by_page(client: TestClient) -> None:
    post_template(client, "t")
    for n in range(2, 6):
        assert client.patch(f"{V2}/templates/t", json={"name": f"v{n}"}).status_code == 200

    first = client.get(f"{V2}/templates/t/versions", params={"limit": 2}).json()
    listed = versions(client, "t", limit=2)

    assert [v["version"] for v in first["items"]] == [5, 4]
    assert first["next_cursor"]
    assert [v["version"] for v in listed] == [5, 4, 3, 2, 1]
    assert [v["name"] for v in listed] == ["v5", "v4", "v3", "v2", "T"]


def test_a_rejected_patch_keeps_no_version(client: TestClient) -> None:
    post_template(client, "t")

    assert_problem(client.patch(f"{V2}/templates/t", json={"workload": "nope"}), 422)

    assert [v["version"] for v in versions(client, "t")] == [1]
    assert_problem(client.get(f"{V2}/templates/t/versions/2"), 404)


def test_unknown_templates_versions_and_cursors(client: TestClient) -> None:
    post_template(client, "t")
    post_template(client, "u")
    client.patch(f"{V2}/templates/u", json={"name": "U2"})
    cursor = client.get(f"{V2}/templates/u/versions", params={"limit": 1}).json()["next_cursor"]
    listed = client.get(f"{V2}/templates", params={"limit": 1}).json()["next_cursor"]

    assert_problem(client.get(f"{V2}/templates/missing/versions"), 404)
    assert_problem(client.get(f"{V2}/templates/missing/versions/1"), 404)
    assert_problem(client.get(f"{V2}/templates/t/versions/9"), 404)
    assert_problem(client.get(f"{V2}/templates/t/versions/0"), 422)
    assert_problem(client.get(f"{V2}/templates/t/versions/99999999999"), 422)
    for foreign in (cursor, listed):
        response = client.get(f"{V2}/templates/t/versions", params={"cursor": foreign})
        assert_problem(response, 422, field="cursor")


def test_versions_need_the_read_scope_only(reader: TestClient, client: TestClient) -> None:
    post_template(client, "t")

    assert reader.get(f"{V2}/templates/t/versions").status_code == 200
    assert reader.get(f"{V2}/templates/t/versions/1").json()["version"] == 1


def test_restore_undoes_an_archive(client: TestClient) -> None:
    post_template(client, "t")
    client.patch(f"{V2}/templates/t", json={"name": "Two"})
    client.delete(f"{V2}/templates/t")

    response = client.post(f"{V2}/templates/t/restore")

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["archived"], body["version"], body["name"]) == (False, 2, "Two")
    assert client.get(f"{V2}/templates/t").json()["archived"] is False
    post_job(client, "t")
    assert client.patch(f"{V2}/templates/t", json={"name": "Three"}).json()["version"] == 3


def test_restore_of_a_template_that_is_not_archived_is_409(client: TestClient) -> None:
    post_template(client, "t")
    client.delete(f"{V2}/templates/t")
    assert client.post(f"{V2}/templates/t/restore").status_code == 200

    again = client.post(f"{V2}/templates/t/restore")

    assert "not archived" in assert_problem(again, 409)["detail"]
    assert client.get(f"{V2}/templates/t").json()["archived"] is False
    assert_problem(client.post(f"{V2}/templates/missing/restore"), 404)


def test_restore_needs_the_admin_scope(writer: TestClient, client: TestClient) -> None:
    post_template(client, "t")
    client.delete(f"{V2}/templates/t")

    assert_problem(writer.post(f"{V2}/templates/t/restore"), 403)
    assert client.get(f"{V2}/templates/t").json()["archived"] is True


def test_a_restore_is_seen_by_a_cache_that_held_the_archive(
    client: TestClient, stores: Stores
) -> None:
    """Another process's cache may still hold the archived template: enqueue reads it again
    before refusing."""
    post_template(client, "t")
    client.delete(f"{V2}/templates/t")
    archived = stores.templates.get("t")  # cached, archived
    stores.templates.restore("t")
    stores.templates._cache.keep(archived)  # type: ignore[attr-defined]  # as another process

    assert post_job(client, "t")["template_id"] == "t"


def test_jobs_and_runs_show_the_template_version(client: TestClient, stores: Stores) -> None:
    post_template(client, "t")
    early = post_job(client, "t")
    client.patch(f"{V2}/templates/t", json={"name": "Two"})
    late = post_job(client, "t")
    claim = Dispatcher(stores, stores.dispatch, DispatchConfig(slots=1)).claim()
    assert claim is not None
    assert claim.run is not None

    job = client.get(f"{V2}/jobs/{early['job_id']}").json()
    run = client.get(f"{V2}/runs/{claim.run.run_id}").json()

    assert (early["template_version"], late["template_version"]) == (1, 2)
    assert job["template_version"] == 1
    assert (run["job_id"], run["template_version"]) == (early["job_id"], 1)
    listed = client.get(f"{V2}/jobs", params={"template_id": "t"}).json()["items"]
    assert sorted(j["template_version"] for j in listed) == [1, 2]
