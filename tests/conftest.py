"""Every tier: no test reaches a real AWS account, whatever the developer's environment holds.

Fixtures live in tests/support/ and are registered by each tier's conftest (tests/unit needs
none of them, so `make unit-fast` imports neither moto nor FastAPI)."""

import os

# Never reach a real AWS account from the tests, whatever the developer's environment holds.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",  # moto's fake credentials
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)
