"""The Lambda entry point: the app behind API Gateway (HTTP API, payload 2.0) via Mangum.

Kept light at import: boto3 and jsonschema load on first use, not at cold start.
"""

from mangum import Mangum

from api.app import create_app

app = create_app()
handler = Mangum(app, lifespan="off")
