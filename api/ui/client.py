"""The dashboard reads and writes through the API itself, in process: the same routes, scopes,
validation and problem bodies as any client (a read-only key's write is the API's 403), and no
second way to reach the stores. The call goes through the whole app (its guard and aliases) by
ASGI, never over the network, so it costs what a route costs, on Lambda as locally."""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

if TYPE_CHECKING:
    import httpx

API_PREFIX = "/api/v2"


class ApiProblemError(Exception):
    """The API refused: its problem body (RFC 9457), for the page to show."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.title = str(body.get("title", "Error"))
        self.detail = str(body.get("detail", ""))
        self.errors: list[dict[str, str]] = list(body.get("errors", []))
        super().__init__(f"{status} {self.title}: {self.detail}")


def _is_plain(path: str) -> bool:
    segments = path.split("/")
    return not any(c in path for c in "?#%\\") and ".." not in segments and "." not in segments


class Api:
    """The caller's API, holding the session's key; one per request."""

    def __init__(self, request: Request, key_token: str) -> None:
        import httpx  # on the first page, not at the Lambda's cold start

        transport = httpx.ASGITransport(app=request.app)
        self._client = httpx.AsyncClient(
            transport=transport,
            base_url=f"http://dashboard{API_PREFIX}",
            headers={"Authorization": f"Bearer {key_token}"},
            timeout=60,
        )

    async def _send(
        self,
        method: str,
        path: str,
        json: Any,
        params: dict[str, Any] | None,
        headers: Mapping[str, str] | None = None,
    ) -> "httpx.Response":
        if not _is_plain(path):
            # An id from a page's path pasted into an API path must stay one segment: `?`, `#`,
            # `%` or `..` in it would reach another route or query (a crafted link).
            raise ApiProblemError(404, {"title": "Not found", "detail": "no such resource"})
        query = {k: v for k, v in (params or {}).items() if v is not None and v != ""}
        response = await self._client.request(
            method, path, json=json, params=query, headers=headers
        )
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"title": response.reason_phrase, "detail": response.text[:200]}
            raise ApiProblemError(response.status_code, body if isinstance(body, dict) else {})
        return response

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        response = await self._send(method, path, json, params, headers)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    async def get_bytes(self, path: str) -> tuple[bytes, Mapping[str, str]]:
        """A GET whose answer is not JSON (a download): its body and headers."""
        response = await self._send("GET", path, None, None)
        return response.content, response.headers

    async def get(self, path: str, **params: Any) -> Any:
        return await self.call("GET", path, params=params)

    async def post(self, path: str, json: Any = None, **params: Any) -> Any:
        return await self.call("POST", path, json=json, params=params)

    async def patch(self, path: str, json: Any = None, **params: Any) -> Any:
        return await self.call("PATCH", path, json=json, params=params)

    async def delete(self, path: str) -> Any:
        return await self.call("DELETE", path)

    async def aclose(self) -> None:
        await self._client.aclose()
