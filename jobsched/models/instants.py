"""One form for every instant the API and webhooks show: RFC 3339 in UTC with microseconds and
`Z` (2026-12-02T13:05:09.000000Z). Pydantic alone would drop a zero fraction and keep the
offset it was given, so a client saw three forms; one fixed width also sorts as text."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import PlainSerializer

RFC3339_UTC = "%Y-%m-%dT%H:%M:%S.%fZ"


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(RFC3339_UTC)


Instant = Annotated[datetime, PlainSerializer(rfc3339, return_type=str, when_used="json")]
