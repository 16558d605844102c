"""Alias prefixes, resolved before routing.

Each router is included once, under its canonical prefix (/api/v2 for the scheduler API, none
for the legacy job API). A request under an alias (/scheduler, /api/v1) is routed as its
canonical path: FastAPI builds an included route once per prefix it is included under (at the
first request through it, and for the OpenAPI document), so one tree builds each route once.

What clients see does not change: the OpenAPI document lists every alias path (copied from the
canonical operations, operationIds named per prefix as FastAPI names them), a redirect the
router makes names the prefix the client used, and logs name the path the client sent.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from fastapi import APIRouter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CLIENT_PATH = "jobsched.client_path"  # scope key: the path as sent, when an alias was resolved


@dataclass(frozen=True)
class Alias:
    """`prefix` serves what is routed under `canonical`, for paths whose first segment after the
    prefix is one of `segments`: a canonical prefix shared with other routes (the legacy API's
    none) must not lend them to the alias (/api/v1/health stays a 404)."""

    prefix: str
    canonical: str
    segments: frozenset[str]

    def canonical_path(self, path: str) -> str | None:
        """Where `path` (without the root path) is routed, or None when the alias does not
        serve it."""
        if not path.startswith(self.prefix + "/"):
            return None
        rest = path[len(self.prefix) :]
        return self.canonical + rest if self._serves(rest) else None

    def client_path(self, canonical_path: str) -> str | None:
        """The alias path of a canonical one, or None when the alias does not serve it."""
        if not canonical_path.startswith(self.canonical + "/"):
            return None
        rest = canonical_path[len(self.canonical) :]
        return self.prefix + rest if self._serves(rest) else None

    def _serves(self, rest: str) -> bool:
        return rest[1:].split("/", 1)[0] in self.segments


def served_segments(routers: Iterable[APIRouter]) -> frozenset[str]:
    """The first path segments of the routers' routes (as included without a prefix)."""
    paths = [str(getattr(route, "path", "")) for router in routers for route in router.routes]
    segments = {path.split("/", 2)[1] for path in paths if path.startswith("/")}
    templated = sorted(s for s in segments if s.startswith("{"))
    if templated:  # it would take every path under an alias, and others' under the canonical
        raise ValueError(f"an aliased route cannot start with a path parameter: {templated}")
    return frozenset(segments)


def client_path(scope: Scope) -> str:
    """The path as the client sent it."""
    path: str = scope.get(CLIENT_PATH, scope["path"])
    return path


class ResolveAliases:
    """Pure ASGI middleware: routes an alias path as its canonical path. The scope is copied,
    so the layers outside (the server error handler's log) keep the path the client sent."""

    def __init__(self, app: ASGIApp, aliases: Sequence[Alias]) -> None:
        self.app = app
        self.aliases = tuple(aliases)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        root = scope.get("root_path", "")
        path: str = scope["path"]
        route_path = path[len(root) :] if path.startswith(root) else path
        for alias in self.aliases:
            canonical = alias.canonical_path(route_path)
            if canonical is not None:
                break
        else:
            await self.app(scope, receive, send)
            return
        routed = {**scope, "path": root + canonical, CLIENT_PATH: path}
        raw = scope.get("raw_path")
        sent_prefix = (root + alias.prefix).encode()
        if isinstance(raw, bytes) and raw.startswith(sent_prefix):
            routed["raw_path"] = (root + alias.canonical).encode() + raw[len(sent_prefix) :]
        else:  # percent-encoded differently: better none (it is optional) than a stale one
            routed.pop("raw_path", None)
        await self.app(routed, receive, _redirects_to_alias(send, alias, root))


def _redirects_to_alias(send: Send, alias: Alias, root: str) -> Send:
    """The router's trailing-slash redirect names the canonical path: give it the alias back.
    No route of ours redirects, and a 202's Location (a reservation to poll) is left alone."""

    async def send_back(message: Message) -> None:
        if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
            headers = [
                (name, _alias_location(value, alias, root) if name == b"location" else value)
                for name, value in message.get("headers", [])
            ]
            message = {**message, "headers": headers}
        await send(message)

    return send_back


def _alias_location(location: bytes, alias: Alias, root: str) -> bytes:
    parts = urlsplit(location.decode("latin-1"))
    canonical = root + alias.canonical + "/"
    if not parts.path.startswith(canonical):
        return location
    path = root + alias.prefix + "/" + parts.path[len(canonical) :]
    return urlunsplit(parts._replace(path=path)).encode("latin-1")


def with_aliases(document: dict[str, Any], aliases: Sequence[Alias]) -> dict[str, Any]:
    """The OpenAPI document with every alias path, each group of them right after the last
    canonical path it copies (where FastAPI put them when each prefix was an include)."""
    paths: dict[str, Any] = document["paths"]
    served = {alias: [p for p in paths if alias.client_path(p) is not None] for alias in aliases}
    after: dict[str, list[Alias]] = {}
    for alias, canonical_paths in served.items():
        if canonical_paths:
            after.setdefault(canonical_paths[-1], []).append(alias)
    documented: dict[str, Any] = {}
    for path, item in paths.items():
        documented[path] = item
        for alias in after.get(path, []):
            for canonical in served[alias]:
                aliased = alias.client_path(canonical)
                assert aliased is not None
                documented[aliased] = {
                    method: _renamed(operation, canonical, aliased)
                    for method, operation in paths[canonical].items()
                }
    return {**document, "paths": documented}


def _unique(path: str) -> str:
    return re.sub(r"\W", "_", path)  # as fastapi.utils.generate_unique_id writes a path


def _renamed(operation: Any, canonical: str, aliased: str) -> Any:
    """The operation under the alias path, its generated operationId (name, path, method)
    naming that path; an operationId given by the route is the same under every prefix."""
    if not isinstance(operation, dict):
        return operation
    operation_id = operation.get("operationId")
    generated = re.compile(rf"{re.escape(_unique(canonical))}(_[a-z]+)$")
    found = generated.search(operation_id) if isinstance(operation_id, str) else None
    if found is None:
        return operation
    assert isinstance(operation_id, str)
    renamed = operation_id[: found.start()] + _unique(aliased) + found.group(1)
    return {**operation, "operationId": renamed}
