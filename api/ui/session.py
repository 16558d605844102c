"""The dashboard's session: the API key, kept in a cookie the page's scripts cannot read.

- The cookie holds the key itself (HttpOnly, SameSite=Strict, Path=/ui, Secure over HTTPS),
  so the server keeps no session state and needs no secret of its own, on Lambda as locally.
  The key is never in a URL, a page or a log.
- Writes are safe against cross-site requests three ways: the cookie is not sent by another
  site (SameSite=Strict); every write carries a token derived from the key (an HMAC that a page
  of another origin cannot compute or read), in the X-CSRF-Token header or a form field; and a
  browser's Sec-Fetch-Site/Origin, when sent, must be this origin.
"""

import hashlib
import hmac

from starlette.datastructures import Headers
from starlette.requests import Request

from jobsched.errors import PermissionDeniedError

COOKIE = "jobsched_session"
COOKIE_PATH = "/ui"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SESSION_SECONDS = 12 * 3600  # a working day: the browser forgets the key after it
CROSS_SITE = "a dashboard write must come from the dashboard's own pages"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def token_of(headers: Headers) -> str | None:
    """The key in the session cookie, read by the guard for /ui paths."""
    from http.cookies import SimpleCookie

    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # a malformed Cookie header is no session, not a 500
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel and morsel.value else None


def csrf_token(key_token: str) -> str:
    """The write token of a session: only a page that was given it (ours) knows it."""
    return hmac.new(key_token.encode(), b"jobsched-ui-csrf", hashlib.sha256).hexdigest()


def check_same_origin(request: Request) -> None:
    """A browser names where a request came from; a cross-site write is refused outright."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in {"same-origin", "none"}:
        raise PermissionDeniedError(CROSS_SITE)
    origin = request.headers.get("origin")
    if origin is not None and origin != "null":
        own = f"{request.url.scheme}://{request.url.netloc}"
        if origin != own:
            raise PermissionDeniedError(CROSS_SITE)


def check_csrf(request: Request, key_token: str, sent: str | None) -> None:
    check_same_origin(request)
    if sent is None or not hmac.compare_digest(sent, csrf_token(key_token)):
        raise PermissionDeniedError("the page's write token is missing or stale: reload the page")


def is_secure(request: Request) -> bool:
    return request.url.scheme == "https"
