"""The dashboard's session: login with a key into an HttpOnly cookie, logout, and writes that
only the dashboard's own pages can make (SameSite cookie, a write token, Sec-Fetch-Site)."""

import re

from fastapi.testclient import TestClient

from jobsched.jobs.keys import mint_key
from jobsched.models import Scope
from jobsched.ports import Stores
from tests.support.ui import csrf_of, write_headers


def anonymous(stores: Stores) -> TestClient:
    from api.app import create_app

    return TestClient(create_app(stores), raise_server_exceptions=False, follow_redirects=False)


def test_a_page_without_a_session_sends_to_the_login_and_back(stores: Stores) -> None:
    client = anonymous(stores)
    response = client.get("/ui/?since=x")
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/login?next=%2Fui%2F%3Fsince%3Dx"
    login = client.get(response.headers["location"])
    assert login.status_code == 200
    assert 'name="next" value="/ui/?since=x"' in login.text
    assert "X-CSRF-Token" not in login.text  # no session, no write token


def ui_routes() -> list[tuple[str, str]]:
    from fastapi.routing import APIRoute, iter_route_contexts

    from api.app import create_app

    found = [
        (c.original_route, c.path, c.methods) for c in iter_route_contexts(create_app().routes)
    ]
    return [
        (method, path)
        for route, path, methods in found
        if isinstance(route, APIRoute) and path.startswith("/ui") and path not in OPEN
        for method in sorted(methods or route.methods)
    ]


OPEN = {"/ui/login", "/ui/static/{name:path}"}


def test_every_dashboard_route_needs_a_session(stores: Stores) -> None:
    client = anonymous(stores)
    routes = ui_routes()
    assert len(routes) >= 4
    for method, path in routes:
        url = re.sub(r"\{(\w+)(:\w+)?\}", r"dummy_\1", path)
        response = client.request(method, url)
        if path == "/ui/events":  # an EventSource follows no redirect: told, as htmx is
            assert response.status_code == 401
            continue
        assert response.status_code == 303, (method, path, response.status_code)
        assert response.headers["location"].startswith("/ui/login?next="), (method, path)
        htmx = client.request(method, url, headers={"HX-Request": "true"})
        assert htmx.status_code == 401, (method, path)


def test_an_htmx_request_without_a_session_is_told_where_to_log_in(stores: Stores) -> None:
    response = anonymous(stores).get("/ui/panels/counts", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/ui/login?next=")


def test_login_sets_a_cookie_the_scripts_cannot_read_and_never_puts_the_key_in_a_url(
    stores: Stores,
) -> None:
    minted = mint_key(stores.keys, "ops", [Scope.READ])
    client = anonymous(stores)
    response = client.post("/ui/login", data={"key": minted.secret, "next": "/ui/queue"})
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/queue"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("jobsched_session=")
    for attribute in ("HttpOnly", "Path=/ui", "SameSite=strict", "Max-Age=43200"):
        assert attribute.lower() in cookie.lower()
    assert "Secure" not in cookie  # plain http on loopback; https sets it (the Lambda test)
    page = client.get("/ui/")
    assert page.status_code == 200
    assert minted.secret not in page.text
    assert "ops" in page.text  # the key's name, shown beside its scopes


def test_a_wrong_key_is_refused_without_a_session(stores: Stores) -> None:
    client = anonymous(stores)
    response = client.post("/ui/login", data={"key": "jsk_nope_nope", "next": "/ui/"})
    assert response.status_code == 200  # the form again, with why
    assert "not valid" in response.text
    assert "set-cookie" not in response.headers
    assert client.get("/ui/").status_code == 303


def test_a_revoked_key_ends_its_session(stores: Stores) -> None:
    minted = mint_key(stores.keys, "ops", [Scope.READ])
    client = anonymous(stores)
    client.post("/ui/login", data={"key": minted.secret})
    assert client.get("/ui/").status_code == 200
    stores.keys.revoke(minted.record.key_id)
    assert client.get("/ui/").status_code == 303


def test_login_only_sends_back_into_the_dashboard(stores: Stores) -> None:
    minted = mint_key(stores.keys, "ops", [Scope.READ])
    for target in ("https://evil.example/", "//evil.example/ui", "/api/v2/jobs"):
        response = anonymous(stores).post("/ui/login", data={"key": minted.secret, "next": target})
        assert response.headers["location"] == "/ui/", target


def test_logout_needs_the_write_token_and_clears_the_cookie(admin_ui: TestClient) -> None:
    refused = admin_ui.post("/ui/logout", headers={"HX-Request": "true"})
    assert refused.headers["X-Refused"] == "403"
    assert refused.headers["HX-Retarget"] == "#flash"
    assert "write token" in refused.text
    assert admin_ui.get("/ui/").status_code == 200  # still logged in

    token = csrf_of(admin_ui.get("/ui/").text)
    response = admin_ui.post("/ui/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/login"
    assert 'jobsched_session=""' in response.headers["set-cookie"]
    assert admin_ui.get("/ui/").status_code == 303


def test_a_cross_site_write_is_refused_even_with_the_token(admin_ui: TestClient) -> None:
    headers = write_headers(admin_ui)
    for foreign in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}):
        response = admin_ui.post("/ui/logout", headers={**headers, **foreign})
        assert response.headers["X-Refused"] == "403", foreign
        assert "own pages" in response.text
    assert admin_ui.get("/ui/").status_code == 200


def test_a_write_token_is_the_sessions_own(stores: Stores, admin_ui: TestClient) -> None:
    other = mint_key(stores.keys, "other", [Scope.ADMIN])
    client = anonymous(stores)
    client.post("/ui/login", data={"key": other.secret})
    foreign_token = csrf_of(client.get("/ui/").text)
    response = admin_ui.post(
        "/ui/logout", headers={"X-CSRF-Token": foreign_token, "HX-Request": "true"}
    )
    assert response.headers["X-Refused"] == "403"
    assert admin_ui.post("/ui/logout", headers={"X-CSRF-Token": foreign_token}).status_code == 403


def test_the_api_does_not_take_the_session_cookie(admin_ui: TestClient) -> None:
    """The cookie is scoped to /ui; a bearer-less API call with it is still a 401."""
    cookie = admin_ui.cookies.get("jobsched_session")
    assert cookie
    response = admin_ui.get("/api/v2/jobs", headers={"Cookie": f"jobsched_session={cookie}"})
    assert response.status_code == 401


def test_a_live_panels_first_paint_is_html_not_escaped_text(admin_ui: TestClient) -> None:
    html = admin_ui.get("/ui/").text
    assert '<div class="counts" data-testid="counts">' in html
    assert "&lt;div" not in html


def test_an_id_in_a_dashboard_path_cannot_reach_another_api_route(admin_ui: TestClient) -> None:
    """`/ui/runs/x%3Fstatus=failed` must not become the API's `/runs/x?status=failed`, nor
    a backslash another route (a client resolves `..` itself)."""
    for crafted in ("%3F", "%3Fstatus=failed", "x%23frag", "x%25", "x%5C..%5Cjobs"):
        response = admin_ui.get(f"/ui/runs/{crafted}")
        assert response.status_code == 404, crafted


def test_no_dashboard_route_answers_a_client_mistake_with_a_5xx(admin_ui: TestClient) -> None:
    """Every route with ids that do not exist, and every write with an empty, a junk JSON and a
    junk form body: a 4xx page or a refusal in the message area, never a 5xx."""
    headers = write_headers(admin_ui)
    bodies: list[dict[str, object]] = [
        {},
        {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
        {"json": {"job_id": 7, "position": "x", "name": None}},
        {"data": {"position": "-1", "priority": "nope", "expression": "cron(", "key": "x"}},
    ]
    for method, path in [route for route in ui_routes() if route[1] != "/ui/logout"]:
        url = re.sub(r"\{(\w+)(:\w+)?\}", r"nothere_\1", path)
        if path == "/ui/events":
            url = "/ui/events?panels=nope"
        if method == "GET":
            response = admin_ui.get(url)
            assert response.status_code < 500, (method, path, response.text[:300])
            continue
        for body in bodies:
            extra = dict(body)
            sent = {**headers, **extra.pop("headers", {})}  # type: ignore[dict-item]
            response = admin_ui.request(method, url, headers=sent, **extra)  # type: ignore[arg-type]
            assert response.status_code < 500, (method, path, body, response.text[:300])
    assert admin_ui.get("/ui/").status_code == 200  # still logged in: every route was reached
