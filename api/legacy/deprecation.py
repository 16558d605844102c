"""Deprecation of the legacy API: Deprecation (RFC 9745), Sunset (RFC 8594) and Link headers on
every legacy response, errors included, and one structured warning per call."""

import logging
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from functools import cache

from fastapi.routing import APIRoute
from starlette.types import Message, Receive, Scope, Send

from api.aliases import client_path

logger = logging.getLogger("jobsched.legacy")


@dataclass(frozen=True)
class DeprecationPolicy:
    deprecated_at: datetime
    sunset_at: datetime
    migration_url: str
    use_scheduler: bool = True

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"deprecation", f"@{int(self.deprecated_at.timestamp())}".encode()),
            (b"sunset", format_datetime(self.sunset_at, usegmt=True).encode()),
            (b"link", f'<{self.migration_url}>; rel="deprecation"'.encode()),
        ]


@cache
def _from_settings() -> DeprecationPolicy:
    from jobsched.settings import get_settings  # lazy: pydantic-settings loads on first use

    settings = get_settings()
    return DeprecationPolicy(
        deprecated_at=settings.legacy_deprecated_at,
        sunset_at=settings.legacy_sunset_at,
        migration_url=settings.legacy_migration_url,
        use_scheduler=settings.use_scheduler,
    )


def policy_of(scope: Scope) -> DeprecationPolicy:
    """The app's policy (tests set `app.state.deprecation`), else the settings'."""
    app = scope.get("app")
    policy = getattr(getattr(app, "state", None), "deprecation", None)
    return policy if isinstance(policy, DeprecationPolicy) else _from_settings()


class DeprecatedRoute(APIRoute):
    """A route whose every response says it is deprecated, and whose every call is logged."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        policy = policy_of(scope)

        async def send_deprecated(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *policy.headers()]}
                _log_call(scope, self.path, message["status"])
            await send(message)

        await super().handle(scope, receive, send_deprecated)


def _log_call(scope: Scope, route: str, status: int) -> None:
    # The key's id (set by api.deps.current_key once the key is known), never the key itself.
    key_id = scope.get("state", {}).get("key_id")
    logger.warning(
        "deprecated API called: %s %s",
        scope.get("method"),
        route,
        extra={
            "event": "legacy_api_call",
            "method": scope.get("method"),
            "route": route,
            "path": client_path(scope),  # /api/v1/... as sent, though routed as /...
            "status": status,
            "key_id": key_id,
        },
    )
