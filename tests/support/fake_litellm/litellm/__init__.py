"""A stand-in for the litellm package in the worker's tests: no network, no cost.

litellm is not installed in the dev environment (it adds some 290 MB; see container/README.md),
so the provider is tested against this fake of the surface it uses, checked against litellm
1.110: `completion(**kwargs)` returning `.choices[0].message.content`, `mock_response=` (text
returned as is, an exception raised), `get_supported_openai_params(model=...)` (None for a
model it does not know) and `suppress_debug_info`. Like the real one, it prints on stdout.

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
    return SimpleNamespace(model=kwargs["model"], choices=[SimpleNamespace(message=message)])
