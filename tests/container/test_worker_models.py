"""The worker with JOBSCHED_MODEL_PROVIDER=litellm (the fake package), its keys from Secrets
Manager (moto server): what reaches the files, and that no key ever reaches the output."""

import hashlib
import json
import signal
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.support.file_contract import check_card, check_story, written
from tests.support.usage_contract import the_usage
from tests.support.worker_harness import (
    Exited,
    StartWorker,
    aws_client,
    run_worker,
    unit_env,
    with_fake_litellm,
)

GEMINI_KEY = "AIzaFAKE-gemini-key-0123456789"
OPENAI_KEY = "sk-fake-openai-key-987654321"


def fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:12]


def litellm_env(out: Path, workload: str, **params: object) -> dict[str, str]:
    return with_fake_litellm(unit_env(workload, out, **params))


def output_of(done: Exited) -> str:
    return json.dumps(done.events) + done.stderr


@pytest.fixture
def secret_arn(endpoint: str) -> str:
    client = aws_client("secretsmanager", endpoint)
    keys = {"GEMINI_API_KEY": GEMINI_KEY, "OPENAI_API_KEY": OPENAI_KEY}
    created = client.create_secret(
        Name=f"model-keys-{uuid.uuid4().hex[:8]}", SecretString=json.dumps(keys)
    )
    arn: str = created["ARN"]
    return arn


def keyed_env(endpoint: str, arn: str, out: Path, **params: Any) -> dict[str, str]:
    env = litellm_env(out, "story_generation", **params)
    env.update(AWS_ENDPOINT_URL=endpoint, JOBSCHED_MODEL_KEYS_SECRET=arn)
    return env


def test_stories_from_litellm_are_normalised_to_the_shape(tmp_path: Path) -> None:
    done = run_worker(litellm_env(tmp_path, "story_generation", max_stories=2, topic="kelp"))

    assert done.code == 0, done.events
    assert done.first("generating")["provider"] == "litellm"
    stories = written(tmp_path, "stories")
    assert len(stories) == 2
    for story in stories.values():
        check_story(story)
        assert story["provider"] == "litellm"
        assert story["title"] == "A fake title from gemini/gemini-2.0-flash-exp"  # stripped
        assert story["text"].startswith("Key fingerprint none.")  # no key was set
        assert "Topic: kelp" in story["text"]  # the prompt, echoed by the fake
    assert "banner" in done.stderr  # litellm's prints never reach stdout, the log
    calls = done.named("model_call")
    usage = the_usage(done)
    assert usage["calls"] == len(calls) == 2
    assert usage["unpriced_calls"] == 0
    assert usage["cost_usd"] == pytest.approx(sum(call["cost_usd"] for call in calls))
    assert usage["cost_usd"] > 0  # the fake's price for the default model
    assert usage["prompt_tokens"] == sum(call["prompt_tokens"] for call in calls) > 0


def test_calls_to_a_model_litellm_cannot_price_count_as_unpriced(tmp_path: Path) -> None:
    model = "openai/a-private-model"
    done = run_worker(litellm_env(tmp_path, "story_generation", max_stories=2, model=model))

    assert done.code == 0, done.events
    assert [call["cost_usd"] for call in done.named("model_call")] == [None, None]
    usage = the_usage(done)
    assert (usage["calls"], usage["unpriced_calls"], usage["cost_usd"]) == (2, 2, 0.0)
    (entry,) = usage["by_model"]
    assert (entry["model"], entry["unpriced_calls"], entry["cost_usd"]) == (model, 2, 0.0)
    assert entry["prompt_tokens"] == usage["prompt_tokens"] > 0


def test_cards_from_litellm_are_cut_to_the_cards_limits(tmp_path: Path) -> None:
    done = run_worker(litellm_env(tmp_path, "research", topic="deep sea", max_cards=1))

    assert done.code == 0, done.events
    (card,) = written(tmp_path, "cards").values()
    check_card(card)
    assert card["provider"] == "litellm"
    assert len(card["summary"]) == 5000  # cut to the limit
    assert card["facts"] == ["First fact.", "x" * 1000]  # blanks and non-strings dropped
    assert card["tags"] == ["deep-sea", "ocean-life", "cafe"]  # slugs, once each
    assert card["sources"] == [
        {"title": "Good", "url": "https://example.org/a"},
        {"title": "Plain http", "url": "http://example.org/b"},
        {"title": "example.org", "url": "https://example.org/untitled"},
    ]


def test_keys_from_secrets_manager_reach_litellm_and_never_the_log(
    endpoint: str, secret_arn: str, tmp_path: Path
) -> None:
    done = run_worker(keyed_env(endpoint, secret_arn, tmp_path, max_stories=2, api_key="p-key"))

    assert done.code == 0, done.events
    loaded = done.named("model_keys_loaded")
    assert [e["names"] for e in loaded] == [["GEMINI_API_KEY", "OPENAI_API_KEY"]]  # once
    for story in written(tmp_path, "stories").values():
        assert story["text"].startswith(f"Key fingerprint {fingerprint(GEMINI_KEY)}.")
    output = output_of(done)
    for secret in (GEMINI_KEY, OPENAI_KEY, "p-key"):
        assert secret not in output


def test_a_failing_call_is_a_clear_error_without_the_key(
    endpoint: str, secret_arn: str, tmp_path: Path
) -> None:
    env = keyed_env(endpoint, secret_arn, tmp_path)
    env["FAKE_LITELLM_FAIL"] = "AuthenticationError: API key {GEMINI_API_KEY} not valid"

    done = run_worker(env)

    assert done.code == 1
    error = done.first("error")
    assert error["error_type"] == "ProviderError"
    assert error["message"] == (
        "gemini/gemini-2.0-flash-exp failed: RuntimeError: AuthenticationError: API key *** "
        "not valid"
    )
    assert GEMINI_KEY not in output_of(done)


def test_an_unreadable_secret_fails_the_run(endpoint: str, tmp_path: Path) -> None:
    done = run_worker(keyed_env(endpoint, "no-such-secret", tmp_path))

    assert done.code == 1
    assert "cannot read the model keys secret no-such-secret" in done.first("error")["message"]
    assert not (tmp_path / "stories").exists()


def test_sigterm_stops_between_stories_and_keeps_those_written(
    tmp_path: Path, start_worker: StartWorker
) -> None:
    env = litellm_env(tmp_path, "story_generation", max_stories=20)
    env["FAKE_LITELLM_DELAY"] = "0.3"  # a model call takes a while
    worker = start_worker(env)
    worker.wait_for("progress")

    worker.signal(signal.SIGTERM)
    done = worker.wait()

    assert done.code == 143
    assert done.first("stopped")["signal"] == "SIGTERM"
    stories = written(tmp_path, "stories")
    progress = [e["story_id"] for e in done.named("progress")]
    assert 1 <= len(stories) < 20
    assert sorted(progress) == sorted(stories)  # the story in flight was finished and kept
    assert len(done.first("artifacts")["artifacts"]) == len(stories)
    assert done.names()[-1] == "finished"
    usage = the_usage(done)  # once, with what the stopped run used
    assert usage["calls"] == len(done.named("model_call")) == len(stories)
    assert usage["prompt_tokens"] == sum(e["prompt_tokens"] for e in done.named("model_call"))
