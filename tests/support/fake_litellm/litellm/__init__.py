"""A stand-in for the litellm package in the worker's tests: no network, no cost.

The provider's failures and the worker's subprocess runs are tested against this fake of the
surface it uses (the real package, with its `mock_response`, is tested in test_litellm_real),
checked against litellm 1.110: `completion(**kwargs)` returning `.choices[0].message.content`,
`.usage.prompt_tokens`/`.completion_tokens` and `._hidden_params["response_cost"]` (None for a
model missing from the price list), `mock_response=` (text returned as is, an exception
raised), `completion_cost(completion_response=...)` (raises for a model it cannot price),
`get_supported_openai_params(model=...)` (None for a model it does not know) and
`suppress_debug_info`. Like the real one, it prints on stdout.

Usage: one prompt token per 4 characters of the messages, one completion token per 4 of the
reply (rounded down); priced for the models of PRICES only.

Behaviour for the worker's subprocess tests, from the environment: FAKE_LITELLM_FAIL (an error
message, formatted with the environment, to raise) and FAKE_LITELLM_DELAY (seconds per call).
"""

import hashlib
import json
import os
import time
from types import SimpleNamespace
from typing import Any

suppress_debug_info = False
calls: list[dict[str, Any]] = []
# US$ per prompt token and per completion token; any other model is unpriced.
PRICES = {"gemini/gemini-2.0-flash-exp": (1e-7, 4e-7), "gpt-4o-mini": (1.5e-7, 6e-7)}


def get_supported_openai_params(model: str, custom_llm_provider: str | None = None) -> Any:
    if model.startswith("unknown/"):
        return None
    if model.startswith("plain/"):  # a model without JSON mode or seeds
        return ["max_tokens", "temperature"]
    return ["max_tokens", "temperature", "response_format", "seed"]


def fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:12]


def _reply(kwargs: dict[str, Any]) -> str:
    """A reply for either workload, wrapped in prose and a fence as models often do."""
    key = os.environ.get("GEMINI_API_KEY", "")
    prompt = kwargs["messages"][-1]["content"]
    reply = {
        "title": f"  A fake title from {kwargs['model']}  ",
        "text": f"Key fingerprint {fingerprint(key) if key else 'none'}.\n\n{prompt}",
        "summary": "A fake summary. " * 400,  # longer than a card allows
        "facts": ["First fact.", "", 42, "x" * 1200],
        "tags": ["Deep Sea", "Ocean Life!", "deep-sea", "Café", "", "---"],
        "sources": [
            {"title": "Good", "url": "https://example.org/a"},
            {"title": "Plain http", "url": "http://example.org/b"},
            {"title": "Not the web", "url": "ftp://example.org/c"},
            {"title": "No host", "url": "https:///nothing"},
            {"url": "https://example.org/untitled"},
            "not an object",
        ],
    }
    return f"Here you are:\n```json\n{json.dumps(reply)}\n```\nAnything else?"


def completion(**kwargs: Any) -> SimpleNamespace:
    calls.append(kwargs)
    print("LiteLLM: a banner the real package prints on stdout")
    time.sleep(float(os.environ.get("FAKE_LITELLM_DELAY", "0")))
    failure = os.environ.get("FAKE_LITELLM_FAIL")
    if failure:
        raise RuntimeError(failure.format(**os.environ))
    mock = kwargs.get("mock_response")
    if isinstance(mock, Exception):
        raise mock
    content = mock if mock is not None else _reply(kwargs)
    message = SimpleNamespace(role="assistant", content=content)
    response = SimpleNamespace(
        model=kwargs["model"],
        choices=[SimpleNamespace(message=message)],
        usage=SimpleNamespace(
            prompt_tokens=sum(len(m["content"]) for m in kwargs["messages"]) // 4,
            completion_tokens=len(content or "") // 4,
        ),
        _hidden_params={},
    )
    response._hidden_params["response_cost"] = _price(response)
    return response


def _price(response: Any) -> float | None:
    prices = PRICES.get(response.model)
    if prices is None:
        return None
    usage = response.usage
    return usage.prompt_tokens * prices[0] + usage.completion_tokens * prices[1]


class ModelNotMappedError(Exception):
    """What litellm raises for a model missing from its price list."""


def completion_cost(completion_response: Any) -> float:
    cost = _price(completion_response)
    if cost is None:
        raise ModelNotMappedError(f"This model isn't mapped yet. model={completion_response.model}")
    return cost
