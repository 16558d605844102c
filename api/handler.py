"""The Lambda entry point: the app behind API Gateway (HTTP API, payload 2.0) via Mangum.

Kept light at import: boto3 and jsonschema load on first use, not at cold start.
"""

import asyncio
from typing import Any

from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES

from api.app import create_app

app = create_app()
# problem+json is text: without this Mangum would base64-encode error bodies.
_mangum = Mangum(
    app, lifespan="off", text_mime_types=[*DEFAULT_TEXT_MIME_TYPES, "application/problem+json"]
)
# Mangum runs each request on `asyncio.get_event_loop()`, which since Python 3.14 (the Lambda
# runtime's) raises when no loop is set, as it does once anything ran `asyncio.run`. One loop
# for the process, set before each request, as a warm Lambda reuses its process.
_loop = asyncio.new_event_loop()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    asyncio.set_event_loop(_loop)
    answer: dict[str, Any] = _mangum(event, context)
    return answer
