"""Model providers in-process: the offline one's determinism, the litellm one's calls and errors,
and model keys from Secrets Manager (moto)."""

import importlib.util
import json
import re
import sys
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws
from worker.providers import (
    Completion,
    CompletionRequest,
    LiteLLMProvider,
    ModelKeys,
    OfflineProvider,
    ProviderError,
    make_provider,
    parse_json_object,
)
from worker.providers.offline import count_tokens, topic_phrases

from tests.support.texts import jaccard
from tests.support.worker_harness import FAKE_LITELLM_DIR

STORY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "maxLength": 200},
        "text": {"type": "string", "maxLength": 100_000},
    },
}
CARD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "summary": {"type": "string", "maxLength": 5000},
        "facts": {"type": "array", "items": {"type": "string", "maxLength": 1000}},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 40}},
        "sources": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "title": {"type": "string", "maxLength": 200},
                    "url": {"type": "string", "format": "uri"},
                },
            },
        },
        "count": {"type": "integer", "minimum": 1, "maximum": 9},
        "score": {"type": "number"},
        "flag": {"type": "boolean"},
    },
}
KEY = "AIzaFAKE-gemini-key-0123456789"


def story_request(topic: str, seed: str = "s1", model: str = "gemini/x") -> CompletionRequest:
    return CompletionRequest(
        system="You write stories.",
        prompt=f"Write an original short story.\nTopic: {topic}\nThis is story number 1.",
        model=model,
        seed=seed,
        json_schema=STORY_SCHEMA,
    )


def story_text(request: CompletionRequest) -> str:
    reply = json.loads(OfflineProvider().complete(request).text)
    return f"{reply['title']}\n{reply['text']}"


# -- offline ----------------------------------------------------------------------------------


def test_offline_gives_the_same_text_for_the_same_request() -> None:
    request = story_request("lighthouse keepers")

    assert OfflineProvider().complete(request) == OfflineProvider().complete(request)


@pytest.mark.parametrize(
    "other",
    [
        story_request("lighthouse keepers", seed="s2"),
        story_request("volcanic islands"),
        story_request("lighthouse keepers", model="openai/y"),
    ],
    ids=["seed", "topic", "model"],
)
def test_offline_texts_of_other_requests_are_far_apart(other: CompletionRequest) -> None:
    text = story_text(story_request("lighthouse keepers"))

    # Same topic, other seed: about 0.07 (0.11 at most over 500 pairs); the scheduler's dedup
    # calls 0.5 a near duplicate.
    assert jaccard(text, story_text(other)) < 0.2
    assert len(text.split()) > 100


def test_offline_weaves_the_topic_into_the_text() -> None:
    text = story_text(story_request("tidal energy in small fishing towns")).lower()

    assert "tidal energy" in text
    assert "small fishing towns" in text


def test_offline_without_a_schema_writes_paragraphs() -> None:
    request = CompletionRequest(system="", prompt="Topic: kelp forests", model="m", seed="1")

    text = OfflineProvider().complete(request).text

    assert text.count("\n\n") >= 2
    assert "kelp forests" in text.lower()


def test_offline_json_follows_the_schema() -> None:
    request = CompletionRequest(
        system="", prompt="Topic: octopus cognition", model="m", seed="7", json_schema=CARD_SCHEMA
    )

    reply = json.loads(OfflineProvider().complete(request).text)

    assert set(reply) == set(CARD_SCHEMA["properties"])
    assert 0 < len(reply["summary"]) <= 5000
    for name in ("facts", "tags", "sources"):
        assert 3 <= len(reply[name]) <= 5
    assert all(isinstance(fact, str) and 0 < len(fact) <= 1000 for fact in reply["facts"])
    assert all(len(tag) <= 40 for tag in reply["tags"])
    for source in reply["sources"]:
        assert set(source) == {"title", "url"}
        assert re.match(r"^https://example\.org/[a-z0-9-]+/[0-9a-f]{6}$", source["url"])
    assert 1 <= reply["count"] <= 9
    assert isinstance(reply["score"], float)
    assert isinstance(reply["flag"], bool)


def test_offline_counts_one_token_per_four_characters_and_costs_nothing() -> None:
    request = story_request("lighthouse keepers")

    answer = OfflineProvider().complete(request)

    assert [count_tokens(text) for text in ("", "a", "abcd", "abcde")] == [0, 1, 1, 2]
    assert answer.model == request.model
    assert answer.prompt_tokens == -(-(len(request.system) + len(request.prompt)) // 4)
    assert answer.completion_tokens == -(-len(answer.text) // 4)
    assert answer.cost_usd == 0.0  # priced, and free
    assert OfflineProvider().complete(request) == answer  # the same counts every time


def test_topic_phrases_come_from_the_labelled_lines_else_the_prompt() -> None:
    labelled = "Write one.\nTopic: Tidal energy in small fishing towns\nGenre: mystery\nNumber 3"
    assert topic_phrases(labelled) == ["tidal energy", "small fishing towns", "mystery"]
    assert topic_phrases("Write a short story about the deep sea") == ["deep sea"]


def test_parse_json_object_takes_the_first_object_in_the_text() -> None:
    assert parse_json_object('Sure! ```json\n{"a": {"b": 1}}\n``` and {"c": 2}') == {"a": {"b": 1}}
    assert parse_json_object('[1, 2] {broken {"ok": true}') == {"ok": True}
    with pytest.raises(ProviderError, match="no JSON object"):
        parse_json_object("[1, 2] no object here")


# -- litellm (against the fake package) --------------------------------------------------------


@pytest.fixture
def fake_litellm(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A fresh fake `litellm` module in sys.modules, as the provider's import finds it."""
    spec = importlib.util.spec_from_file_location(
        "litellm", FAKE_LITELLM_DIR / "litellm" / "__init__.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(sys.modules, "litellm", module)
    return module


def test_litellm_is_not_imported_until_the_first_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "litellm", raising=False)

    provider = LiteLLMProvider()

    assert provider.name == "litellm"
    assert "litellm" not in sys.modules


def test_litellm_sends_the_request_and_asks_for_json(
    fake_litellm: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    request = story_request("kelp", seed="run-9", model="gemini/gemini-2.0-flash-exp")

    reply = json.loads(LiteLLMProvider().complete(request).text)

    assert reply["title"].strip() == "A fake title from gemini/gemini-2.0-flash-exp"
    (call,) = fake_litellm.calls
    assert call["model"] == "gemini/gemini-2.0-flash-exp"
    assert call["response_format"] == {"type": "json_object"}
    assert isinstance(call["seed"], int)
    assert 0 <= call["seed"] < 2**31
    assert call["max_tokens"] == request.max_tokens
    system, user = call["messages"]
    assert system["role"] == "system"
    assert system["content"].startswith("You write stories.")
    assert "JSON" in system["content"]
    assert '"maxLength":200' in system["content"]
    assert user == {"role": "user", "content": request.prompt}
    assert fake_litellm.suppress_debug_info is True
    printed = capsys.readouterr()
    assert printed.out == ""  # stdout is the worker's JSON-lines log
    assert "banner" in printed.err


def test_litellm_same_seed_same_int_seed(fake_litellm: Any) -> None:
    provider = LiteLLMProvider()
    for seed in ("a", "a", "b"):
        provider.complete(story_request("kelp", seed=seed))

    seeds = [call["seed"] for call in fake_litellm.calls]
    assert seeds[0] == seeds[1] != seeds[2]


@pytest.mark.parametrize("model", ["plain/model", "unknown/model"])
def test_litellm_sends_only_what_the_model_supports(fake_litellm: Any, model: str) -> None:
    reply = LiteLLMProvider().complete(story_request("kelp", model=model)).text

    assert "title" in json.loads(reply)  # found in the prose all the same
    (call,) = fake_litellm.calls
    assert "response_format" not in call
    assert "seed" not in call


def test_litellm_extra_kwargs_reach_the_call_mock_response_included(fake_litellm: Any) -> None:
    provider = LiteLLMProvider(extra_kwargs={"mock_response": "plain words", "timeout": 5})
    request = CompletionRequest(system="s", prompt="p", model="gpt-4o-mini")

    assert provider.complete(request).text == "plain words"
    assert fake_litellm.calls[0]["timeout"] == 5


def test_litellm_reports_its_tokens_and_its_price(fake_litellm: Any) -> None:
    request = story_request("kelp", model="gemini/gemini-2.0-flash-exp")

    answer = LiteLLMProvider().complete(request)

    (call,) = fake_litellm.calls
    reply = fake_litellm._reply(call)
    prompt_tokens = sum(len(message["content"]) for message in call["messages"]) // 4
    assert answer.model == "gemini/gemini-2.0-flash-exp"
    assert (answer.prompt_tokens, answer.completion_tokens) == (prompt_tokens, len(reply) // 4)
    assert answer.cost_usd == pytest.approx(prompt_tokens * 1e-7 + len(reply) // 4 * 4e-7)


def test_a_model_litellm_cannot_price_is_unpriced(fake_litellm: Any) -> None:
    answer = LiteLLMProvider().complete(story_request("kelp", model="openai/private-model"))

    assert answer.cost_usd is None
    assert answer.prompt_tokens > 0  # tokens are counted all the same


def _response(content: str | None, **fields: Any) -> Any:
    message = SimpleNamespace(role="assistant", content=content)
    return SimpleNamespace(choices=[SimpleNamespace(message=message)], **fields)


@pytest.mark.parametrize(
    ("model", "cost"), [("gpt-4o-mini", 2.7e-6), ("no/price", None)], ids=["priced", "unpriced"]
)
def test_without_litellms_own_cost_the_price_is_asked_for(
    fake_litellm: Any, model: str, cost: float | None
) -> None:
    usage = SimpleNamespace(prompt_tokens=10, completion_tokens=2)  # no _hidden_params
    fake_litellm.completion = lambda **kwargs: _response('{"t": 1}', model=model, usage=usage)

    answer = LiteLLMProvider().complete(story_request("kelp"))

    assert (answer.prompt_tokens, answer.completion_tokens) == (10, 2)
    assert answer.cost_usd == (None if cost is None else pytest.approx(cost))


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"usage": None, "_hidden_params": {"response_cost": float("nan")}},
        {
            "usage": SimpleNamespace(prompt_tokens=None, completion_tokens=-3),
            "_hidden_params": {"response_cost": -1.0},
        },
        {
            "usage": SimpleNamespace(prompt_tokens=True, completion_tokens="7"),
            "_hidden_params": {"response_cost": "0.1"},
        },
        {"_hidden_params": None},
    ],
    ids=["no-usage", "nan-cost", "negative", "not-numbers", "no-hidden-params"],
)
def test_usage_litellm_cannot_tell_never_fails_the_call(
    fake_litellm: Any, fields: dict[str, Any]
) -> None:
    def broken_cost(completion_response: Any) -> float:
        raise RuntimeError("cannot price")

    fake_litellm.completion = lambda **kwargs: _response('{"title": "t"}', **fields)
    fake_litellm.completion_cost = broken_cost

    answer = LiteLLMProvider().complete(story_request("kelp", model="gemini/x"))

    assert json.loads(answer.text) == {"title": "t"}
    assert answer == Completion(answer.text, "gemini/x", 0, 0, None)


def test_an_unusable_answer_says_what_it_spent(fake_litellm: Any) -> None:
    provider = LiteLLMProvider(extra_kwargs={"mock_response": "no json here"})

    with pytest.raises(ProviderError, match="holds no JSON object") as raised:
        provider.complete(story_request("kelp", model="gpt-4o-mini"))

    spent = raised.value.spent
    assert spent is not None
    assert (spent.model, spent.completion_tokens) == ("gpt-4o-mini", len("no json here") // 4)
    assert spent.cost_usd is not None
    assert spent.cost_usd > 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("no json here", "holds no JSON object"),
        ("  ", "returned no text"),
        (None, "returned no text"),
    ],
)
def test_litellm_unusable_replies_are_provider_errors(
    fake_litellm: Any, content: str | None, message: str
) -> None:
    fake_litellm.completion = lambda **kwargs: _response(content)

    with pytest.raises(ProviderError, match=message):
        LiteLLMProvider().complete(story_request("kelp"))


def test_litellm_errors_are_clear_and_never_carry_a_key(
    fake_litellm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    failure = Exception(f"AuthenticationError: API key {KEY} not valid")
    provider = LiteLLMProvider(extra_kwargs={"mock_response": failure})

    with pytest.raises(ProviderError) as raised:
        provider.complete(story_request("kelp", model="gemini/gemini-2.0-flash-exp"))

    message = str(raised.value)
    assert message.startswith("gemini/gemini-2.0-flash-exp failed: Exception: Authentication")
    assert KEY not in message
    assert "API key *** not valid" in message
    assert raised.value.__cause__ is None  # the cause's text would reach the traceback


def test_litellm_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "litellm", None)  # what an image without it gives

    with pytest.raises(ProviderError, match="needs the litellm package"):
        LiteLLMProvider().complete(story_request("kelp"))


# -- model keys from Secrets Manager ------------------------------------------------------------


@pytest.fixture
def secrets() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")


class CountingReader:
    def __init__(self, client: Any) -> None:
        self.client = client
        self.reads = 0

    def get_secret_value(self, *, SecretId: str) -> Any:  # noqa: N803
        self.reads += 1
        return self.client.get_secret_value(SecretId=SecretId)


def test_keys_are_read_once_and_set_in_the_environment(
    secrets: Any, fake_litellm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = {"GEMINI_API_KEY": KEY, "OPENAI_API_KEY": "sk-fake-openai-key-987654321"}
    arn = secrets.create_secret(Name="model-keys", SecretString=json.dumps(keys))["ARN"]
    environ: dict[str, str] = {"GEMINI_API_KEY": "stale"}
    reader = CountingReader(secrets)
    loaded: list[list[str]] = []
    model_keys = ModelKeys(arn, lambda: reader, loaded.append, environ=environ)
    provider = LiteLLMProvider(model_keys)

    provider.complete(story_request("kelp"))
    provider.complete(story_request("kelp"))

    assert reader.reads == 1
    assert environ == keys  # the secret wins over what was there
    assert loaded == [["GEMINI_API_KEY", "OPENAI_API_KEY"]]  # names only
    assert sorted(model_keys.values()) == sorted(keys.values())


@pytest.mark.parametrize(
    "secret_string",
    [KEY, json.dumps([KEY]), json.dumps({"GEMINI_API_KEY": 42}), json.dumps({"not a name": KEY})],
    ids=["bare-key", "list", "not-a-string", "bad-name"],
)
def test_a_malformed_secret_is_an_error_that_never_quotes_it(
    secrets: Any, secret_string: str
) -> None:
    secrets.create_secret(Name="model-keys", SecretString=secret_string)
    model_keys = ModelKeys("model-keys", lambda: secrets, environ={})

    with pytest.raises(ProviderError, match="must hold a JSON object") as raised:
        model_keys.ensure_loaded()

    assert KEY not in str(raised.value)


def test_a_missing_secret_is_a_clear_error(secrets: Any) -> None:
    model_keys = ModelKeys("no-such-secret", lambda: secrets, environ={})

    with pytest.raises(ProviderError, match="cannot read the model keys secret no-such-secret"):
        model_keys.ensure_loaded()


def test_the_offline_provider_never_reads_keys() -> None:
    def connect() -> Any:
        raise AssertionError("no secret should be read")

    offline = make_provider("offline", "arn:secret", connect)

    assert offline.name == "offline"
    offline.complete(story_request("kelp"))
