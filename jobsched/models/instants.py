"""One form for every instant the API and webhooks show: RFC 3339 in UTC with microseconds and
`Z` (2026-12-02T13:05:09.000000Z). Pydantic alone would drop a zero fraction and keep the
offset it was given, so a client saw three forms; one fixed width also sorts as text."""

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer, Strict
from pydantic_core import PydanticCustomError

RFC3339_UTC = "%Y-%m-%dT%H:%M:%S.%fZ"


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(RFC3339_UTC)


Instant = Annotated[datetime, PlainSerializer(rfc3339, return_type=str, when_used="json")]


_RFC3339_START = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]")


def _time_text(value: object) -> object:
    """A time sent to the API is RFC 3339 text (or a datetime, from Python): pydantic alone
    also reads a number, or a string of digits, as Unix seconds (`?until=0.5` was 1970)."""
    if isinstance(value, datetime) or (isinstance(value, str) and _RFC3339_START.match(value)):
        return value
    raise PydanticCustomError(
        "datetime_type", "Input should be an RFC 3339 date-time, e.g. 2026-01-18T10:00:00Z"
    )


# A time in a request (a body field of a strict model, or a query parameter): text only.
TimeFromJson = Annotated[datetime, BeforeValidator(_time_text), Strict(False)]
