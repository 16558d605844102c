"""The OpenAPI document clients get is the one saved in openapi.json, byte for byte: how the app
mounts its routers (one tree, aliases resolved before routing) is not the clients' business.

After a deliberate API change, save the new document over the fixture:
`python -m tests.support.openapi_fixture`."""

import json

from fastapi.responses import JSONResponse

from tests.support.openapi_fixture import FIXTURE, served_document


def test_the_served_document_is_the_saved_one_byte_for_byte() -> None:
    saved = json.loads(FIXTURE.read_text(encoding="utf-8"))

    served = served_document()

    assert served == JSONResponse(saved).body  # the bytes: key order and all


def test_every_alias_prefix_is_documented() -> None:
    paths = json.loads(served_document())["paths"]

    for prefix in ("/api/v2", "/scheduler"):
        assert f"{prefix}/jobs/{{job_id}}" in paths
    for prefix in ("", "/api/v1"):
        assert f"{prefix}/jobs/{{job_id}}/monitor" in paths
        assert f"{prefix}/story/generate" in paths
