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

    assert json.loads(answer.text) == {"title": "The Keeper", "text": "Mara lit the lamp."}


def test_a_plain_answer_comes_back_as_text() -> None:
    provider = LiteLLMProvider(extra_kwargs={"mock_response": "Once upon a tide."})

    answer = provider.complete(
        CompletionRequest(system="Be brief.", prompt="A line.", model="gpt-4o-mini")
    )

    assert answer.text == "Once upon a tide."


def test_usage_is_litellms_tokens_and_its_price_for_the_model() -> None:
    import litellm  # here, once the fixture has chosen the bundled price list

    provider = LiteLLMProvider(extra_kwargs={"mock_response": "Once upon a tide."})

    answer = provider.complete(
        CompletionRequest(system="Be brief.", prompt="A line.", model="gpt-4o-mini")
    )

    assert answer.model == "gpt-4o-mini"
    assert answer.prompt_tokens > 0
    assert answer.completion_tokens > 0
    price = litellm.model_cost["gpt-4o-mini"]
    expected = (
        answer.prompt_tokens * price["input_cost_per_token"]
        + answer.completion_tokens * price["output_cost_per_token"]
    )
    assert answer.cost_usd == pytest.approx(expected)


def test_a_model_missing_from_litellms_price_list_is_unpriced() -> None:
    provider = LiteLLMProvider(extra_kwargs={"mock_response": "Once upon a tide."})

    answer = provider.complete(
        CompletionRequest(system="Be brief.", prompt="A line.", model="openai/a-private-model")
    )

    assert answer.text == "Once upon a tide."
    assert answer.cost_usd is None
    assert answer.prompt_tokens > 0
