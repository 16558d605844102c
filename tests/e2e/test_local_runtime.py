"""The embedded default: `jobsched local` serving the API end to end."""

import httpx

from tests.support.local_process import API_KEY
from tests.support.waiting import BOUND_SECONDS


def test_local_serves_the_seeded_templates_to_the_given_key(local_server: str) -> None:
    response = httpx.get(
        f"{local_server}/api/v2/templates",
        headers={"Authorization": f"Bearer {API_KEY}"},
        timeout=BOUND_SECONDS,
    )

    assert response.status_code == 200, response.text
    template_ids = {item["template_id"] for item in response.json()["items"]}
    assert {"story_generation", "research"} <= template_ids
