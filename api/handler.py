"""The Lambda entry point: the app behind API Gateway (HTTP API, payload 2.0) via Mangum.

Kept light at import: boto3 and jsonschema load on first use, not at cold start.
"""

from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES

from api.app import create_app

app = create_app()
# problem+json is text: without this Mangum would base64-encode error bodies.
handler = Mangum(
    app, lifespan="off", text_mime_types=[*DEFAULT_TEXT_MIME_TYPES, "application/problem+json"]
)
