"""The litellm provider against the real litellm package, with its `mock_response` in place of
a model (no network): the request it builds is one litellm accepts, and the answer comes back
as text, or as the JSON object asked for."""

import json

import pytest
from worker.providers.base import CompletionRequest
from worker.providers.litellm_provider import LiteLLMProvider

SCHEMA = {"type": "object", "properties": {"title": {"type": "string"}, "text": {"type": "string"}}}


@pytest.fixture(autouse=True)
def bundled_prices(monkeypatch: pytest.MonkeyPatch) -> None:
    # As the image does: litellm reads its bundled price list instead of fetching one.
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def test_a_json_answer_comes_back_as_the_object_asked_for() -> None:
    reply = 'Here it is:\n```json\n{"title": "The Keeper", "text": "Mara lit the lamp."}\n```'
    provider = LiteLLMProvider(extra_kwargs={"mock_response": reply})

    answer = provider.complete(
        CompletionRequest(
            system="You write short stories.",
            prompt="A story about lighthouses.",
            model="gemini/gemini-2.0-flash-exp",
            seed="run_1",
            json_schema=SCHEMA,
        )
    )

    assert json.loads(answer) == {"title": "The Keeper", "text": "Mara lit the lamp."}


def test_a_plain_answer_comes_back_as_text() -> None:
    provider = LiteLLMProvider(extra_kwargs={"mock_response": "Once upon a tide."})

    answer = provider.complete(
        CompletionRequest(system="Be brief.", prompt="A line.", model="gpt-4o-mini")
    )

    assert answer == "Once upon a tide."
