"""The dashboard behind API Gateway: the Lambda handler (Mangum) serves the same pages, which
poll with ETags there (a Lambda response is buffered, so no event stream), with a Secure
cookie over HTTPS."""

from typing import Any
from urllib.parse import urlencode

from jobsched.jobs.keys import mint_key
from jobsched.models import Scope
from jobsched.ports import Stores
from tests.support.lambda_events import (
    Handler,
    http_api_event,
    lambda_context,
)


def call(handler: Handler, event: dict[str, Any]) -> dict[str, Any]:
    response = handler(event, lambda_context())
    response["headers"] = {k.lower(): v for k, v in response["headers"].items()}
    return response


def page_event(path: str, cookie: str, **headers: str) -> dict[str, Any]:
    event = http_api_event("GET", path)
    event["headers"] = {**event["headers"], "accept": "text/html", **headers}
    event["cookies"] = [cookie]
    return event


def login(handler: Handler, secret: str) -> str:
    body = urlencode({"key": secret, "next": "/ui/"})
    event = http_api_event("POST", "/ui/login")
    event["headers"] = {
        **event["headers"],
        "content-type": "application/x-www-form-urlencoded",
        "content-length": str(len(body)),
        "origin": f"https://{event['headers']['host']}",
    }
    event["body"] = body
    response = call(handler, event)
    assert response["statusCode"] == 303, response
    cookies = response.get("cookies") or [response["headers"].get("set-cookie", "")]
    session = next(c for c in cookies if c.startswith("jobsched_session="))
    assert "Secure" in session
    assert "HttpOnly" in session
    return session.split(";", 1)[0]


def test_the_pages_are_served_by_the_lambda_and_poll_with_etags(
    handler: Handler, stores: Stores, echo_template: str
) -> None:
    cookie = login(handler, mint_key(stores.keys, "ops", [Scope.READ]).secret)

    overview = call(handler, page_event("/ui/", cookie))
    assert overview["statusCode"] == 200
    assert overview["headers"]["content-type"].startswith("text/html")
    assert not overview["isBase64Encoded"]
    html = overview["body"]
    assert 'data-live="poll"' in html
    assert "sse-connect" not in html
    assert 'hx-get="/ui/panels/overview_counts"' in html

    panel = call(
        handler, page_event("/ui/panels/overview_counts", cookie, **{"hx-request": "true"})
    )
    assert panel["statusCode"] == 200
    etag = panel["headers"]["etag"]
    unchanged = call(
        handler, page_event("/ui/panels/overview_counts", cookie, **{"if-none-match": etag})
    )
    assert unchanged["statusCode"] == 304
    assert (
        call(handler, page_event("/ui/events?panels=overview_counts", cookie))["statusCode"] == 404
    )

    script = call(handler, page_event("/ui/static/app.js", cookie))
    assert script["statusCode"] == 200
    assert not script["isBase64Encoded"]  # text, as API Gateway should pass it
    assert "htmx" in script["body"]


def test_without_a_session_the_lambda_sends_to_the_login(handler: Handler) -> None:
    response = call(handler, http_api_event("GET", "/ui/"))
    assert response["statusCode"] == 303
    assert response["headers"]["location"].startswith("/ui/login")
    login_page = call(handler, http_api_event("GET", "/ui/login"))
    assert login_page["statusCode"] == 200
    assert "API key" in login_page["body"]


PAGES = ("/ui/", "/ui/queue", "/ui/runs", "/ui/groups", "/ui/schedules", "/ui/templates")


def test_every_page_is_rendered_by_the_lambda(
    handler: Handler, stores: Stores, echo_template: str
) -> None:
    """The same pages as the local runtime's, polling (no event stream) behind API Gateway."""
    cookie = login(handler, mint_key(stores.keys, "admin", [Scope.ADMIN]).secret)
    for path in (*PAGES, "/ui/keys", "/ui/templates/echo", "/ui/schedules/new"):
        response = call(handler, page_event(path, cookie))
        assert response["statusCode"] == 200, (path, response["body"][:300])
        assert response["headers"]["content-type"].startswith("text/html"), path
        assert not response["isBase64Encoded"], path
        html = response["body"]
        assert 'data-live="poll"' in html, path
        assert "sse-connect" not in html, path
        assert "<h1" in html, path
