"""The alias prefixes (/scheduler for /api/v2, /api/v1 for the unprefixed legacy API) are
resolved before routing: one router tree, each route built once, and clients see no difference
(the same handler, the same 404/405/OPTIONS, URLs that carry the prefix they used)."""

from collections.abc import Iterator

import pytest
from fastapi import Request
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import get_stores
from jobsched.jobs.seed import seed_default_templates
from jobsched.ports import Stores
from tests.support.api import assert_problem, post_job

# (canonical, alias) path pairs, one per router the aliases serve.
SAME_ROUTE = [
    ("/api/v2/jobs/{job_id}", "/scheduler/jobs/{job_id}"),
    ("/api/v2/queue", "/scheduler/queue"),
    ("/jobs/{job_id}", "/api/v1/jobs/{job_id}"),  # the legacy job API
    ("/story/list", "/api/v1/story/list"),  # the direct reads
]


@pytest.fixture
def handlers(client: TestClient, stores: Stores) -> Iterator[list[object]]:
    """The endpoint of each route a request reached, recorded by the stores dependency every
    route takes."""
    reached: list[object] = []

    def recording(request: Request) -> Stores:
        reached.append(request.scope["route"].endpoint)
        return stores

    app = client.app
    assert hasattr(app, "dependency_overrides")
    app.dependency_overrides[get_stores] = recording
    yield reached
    app.dependency_overrides.clear()


def test_each_route_is_built_once_under_its_canonical_prefix() -> None:
    routes = list(iter_route_contexts(create_app().routes))
    paths = [c.path for c in routes if isinstance(c.original_route, APIRoute)]

    assert not [p for p in paths if p.startswith(("/scheduler/", "/api/v1/"))]
    originals = [c.original_route for c in routes if isinstance(c.original_route, APIRoute)]
    assert len(originals) == len({id(route) for route in originals})  # none included twice
    assert "/api/v2/jobs/{job_id}" in paths
    assert "/jobs/{job_id}" in paths


def without_etas(value: object) -> object:
    if isinstance(value, dict):
        return {k: without_etas(v) for k, v in value.items() if k != "eta"}
    if isinstance(value, list):
        return [without_etas(v) for v in value]
    return value


@pytest.mark.parametrize(("canonical", "alias"), SAME_ROUTE)
def test_an_alias_reaches_the_handler_of_its_canonical_path(
    client: TestClient, stores: Stores, handlers: list[object], canonical: str, alias: str
) -> None:
    seed_default_templates(stores)
    job_id = post_job(client, "story_generation")["job_id"]
    handlers.clear()

    answers = [client.get(path.format(job_id=job_id)) for path in (canonical, alias)]

    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    # The same answer, apart from ETAs: times counted from each request's own now.
    shown = [without_etas(a.json()) for a in answers]
    assert shown[0] == shown[1]
    assert len(handlers) == 2
    assert handlers[0] is handlers[1]


@pytest.mark.parametrize(
    ("sent", "location"),
    [
        ("/scheduler/jobs/", "/scheduler/jobs"),
        ("/api/v2/jobs/", "/api/v2/jobs"),
        ("/api/v1/jobs/", "/api/v1/jobs"),
        ("/jobs/", "/jobs"),
        ("/scheduler/queue/stats/?x=1", "/scheduler/queue/stats?x=1"),
    ],
)
def test_a_redirect_carries_the_prefix_the_client_used(
    client: TestClient, sent: str, location: str
) -> None:
    response = client.get(sent, follow_redirects=False)

    assert response.status_code == 307
    assert response.headers["location"] == f"http://testserver{location}"


def test_an_alias_under_a_root_path_is_routed_and_redirected_with_both(stores: Stores) -> None:
    client = TestClient(create_app(stores), root_path="/stage")

    redirect = client.get("/stage/scheduler/jobs/", follow_redirects=False)
    unauthenticated = client.get("/stage/api/v1/jobs")

    assert redirect.headers["location"] == "http://testserver/stage/scheduler/jobs"
    assert_problem(unauthenticated, 401)
    assert unauthenticated.headers["deprecation"]  # the legacy route answered


@pytest.mark.parametrize(("canonical", "alias"), [("/api/v2", "/scheduler"), ("", "/api/v1")])
def test_405_and_options_under_an_alias_are_the_canonical_ones(
    client: TestClient, canonical: str, alias: str
) -> None:
    for method in ("PUT", "OPTIONS"):
        there, here = (client.request(method, f"{p}/jobs") for p in (canonical, alias))

        assert here.status_code == there.status_code == (405 if method == "PUT" else 204)
        assert here.headers["allow"] == there.headers["allow"]
        assert here.content == there.content


@pytest.mark.parametrize(
    "path",
    [
        "/scheduler",
        "/scheduler/",
        "/scheduler/nope",
        "/api/v1",
        "/api/v1/health",  # an alias serves only its own API's routes
        "/api/v1/openapi.json",
        "/api/v1/api/v2/jobs",
        "/api/v1/scheduler/jobs",
        "/scheduler/api/v2/jobs",
        "/api/v1/jobsx",
    ],
)
def test_paths_no_alias_serves_are_404(client: TestClient, path: str) -> None:
    body = assert_problem(client.get(path), 404)

    assert body["title"] == "Not found"
