"""The saved OpenAPI document (tests/integration/api/openapi.json) and how to refresh it.
Saved indented for readable diffs; compared as the bytes the API serves."""

import json
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app

FIXTURE = Path(__file__).resolve().parents[1] / "integration" / "api" / "openapi.json"


def served_document() -> bytes:
    """The bytes of /openapi.json, from a fresh app with public docs (no key, no store)."""
    response = TestClient(create_app(public_docs=True)).get("/openapi.json")
    assert response.status_code == 200, response.text
    return response.content


def save() -> None:
    document = json.loads(served_document())
    FIXTURE.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", "utf-8")


if __name__ == "__main__":
    save()
