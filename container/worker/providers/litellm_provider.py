"""The LiteLLM provider: one `litellm.completion` call per request, to any model litellm knows.

Model names go to litellm as they are (`gemini/gemini-2.0-flash-exp`, `gpt-4o-mini`, ...).
litellm reads provider keys from the environment (GEMINI_API_KEY, OPENAI_API_KEY, ...);
`ModelKeys` can put them there from Secrets Manager first. litellm is imported at the first
call: it is large and slow to import, and a worker that runs `echo` must never pay for it.

Usage comes from litellm too: the tokens from the response's `usage`, the cost from litellm's
own price list (`response_cost`, which it works out for every call, else `completion_cost`).
A model litellm cannot price is unpriced (cost None). Reading usage never fails a call.
"""

import contextlib
import dataclasses
import hashlib
import importlib
import json
import math
import os
import sys
from collections.abc import Mapping
from typing import Any

from worker.events import MASK, SECRET_MARKERS
from worker.providers.base import (
    Completion,
    CompletionRequest,
    ProviderError,
    parse_json_object,
)
from worker.providers.keys import ModelKeys

REQUEST_TIMEOUT_SECONDS = 120.0
MIN_SECRET_LENGTH = 8  # shorter values ("testing", "1") are not keys, and would mask too much


def _import_litellm() -> Any:  # litellm has no type information we rely on
    try:
        litellm: Any = importlib.import_module("litellm")
    except ImportError as exc:
        raise ProviderError(
            "the litellm provider needs the litellm package, which this image does not install"
        ) from exc
    litellm.suppress_debug_info = True  # else it prints help banners on stdout, our log stream
    return litellm


def _supported_params(litellm: Any, model: str) -> set[str]:
    try:
        supported = litellm.get_supported_openai_params(model=model)
    except Exception:  # an unknown provider prefix: send only what every model takes
        return set()
    return set(supported or ())


def _int_seed(seed: str) -> int:
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:4], "big") >> 1  # int32


def _system_prompt(request: CompletionRequest) -> str:
    if request.json_schema is None:
        return request.system
    # JSON mode needs the word JSON in the messages, and the shape is asked for in words too.
    shape = json.dumps(request.json_schema, separators=(",", ":"))
    return (
        f"{request.system}\n\nReply with one JSON object only, matching this JSON Schema: {shape}"
    )


def _token_count(usage: Any, name: str) -> int:
    value = getattr(usage, name, None)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _cost(litellm: Any, response: Any) -> float | None:
    """What litellm says the call cost in US$; None when it cannot price the model."""
    hidden = getattr(response, "_hidden_params", None)
    if isinstance(hidden, dict) and "response_cost" in hidden:
        cost = hidden["response_cost"]  # litellm priced the call itself (None: it could not)
    else:
        try:
            cost = litellm.completion_cost(completion_response=response)
        except Exception:  # litellm raises for a model missing from its price list
            return None
    if isinstance(cost, bool) or not isinstance(cost, int | float):
        return None
    return float(cost) if math.isfinite(cost) and cost >= 0 else None


def _spent(litellm: Any, model: str, response: Any) -> Completion:
    """The call's usage (without its text); zero tokens and unpriced where litellm has none."""
    try:
        usage = getattr(response, "usage", None)
        return Completion(
            text="",
            model=model,
            prompt_tokens=_token_count(usage, "prompt_tokens"),
            completion_tokens=_token_count(usage, "completion_tokens"),
            cost_usd=_cost(litellm, response),
        )
    except Exception:  # a response of an odd shape: the call's answer still counts
        return Completion(text="", model=model)


class LiteLLMProvider:
    def __init__(
        self,
        keys: ModelKeys | None = None,
        extra_kwargs: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._keys = keys
        self._extra = dict(extra_kwargs or {})  # e.g. mock_response=..., num_retries=...
        self._environ = os.environ if environ is None else environ

    @property
    def name(self) -> str:
        return "litellm"

    def complete(self, request: CompletionRequest) -> Completion:
        if self._keys is not None:
            self._keys.ensure_loaded()
        litellm = _import_litellm()
        kwargs = self._kwargs(request, _supported_params(litellm, request.model))
        try:
            # Anything litellm prints goes to stderr: stdout carries only our JSON lines.
            with contextlib.redirect_stdout(sys.stderr):
                response = litellm.completion(**kwargs)
            content = response.choices[0].message.content
        except Exception as exc:
            # `from None`: the cause's own text would reach the log's traceback unscrubbed.
            message = self._scrub(f"{type(exc).__name__}: {exc}")
            raise ProviderError(f"{request.model} failed: {message}") from None
        with contextlib.redirect_stdout(sys.stderr):
            spent = _spent(litellm, request.model, response)
        if not isinstance(content, str) or not content.strip():
            raise ProviderError(f"{request.model} returned no text", spent=spent)
        text = content
        if request.json_schema is not None:
            try:
                text = json.dumps(parse_json_object(content), ensure_ascii=False)
            except ProviderError as exc:
                raise ProviderError(str(exc), spent=spent) from None
        return dataclasses.replace(spent, text=text)

    def _kwargs(self, request: CompletionRequest, supported: set[str]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": request.model,
            "messages": [
                {"role": "system", "content": _system_prompt(request)},
                {"role": "user", "content": request.prompt},
            ],
            "max_tokens": request.max_tokens,
            "timeout": REQUEST_TIMEOUT_SECONDS,
        }
        if request.json_schema is not None and "response_format" in supported:
            kwargs["response_format"] = {"type": "json_object"}
        if request.seed and "seed" in supported:
            kwargs["seed"] = _int_seed(request.seed)
        kwargs.update(self._extra)
        return kwargs

    def _scrub(self, text: str) -> str:
        """`text` without any key: those loaded from the secret, and secret-looking variables."""
        secrets = set(self._keys.values()) if self._keys is not None else set()
        secrets.update(
            value
            for name, value in self._environ.items()
            if any(marker in name.lower() for marker in SECRET_MARKERS)
        )
        for secret in sorted(secrets, key=len, reverse=True):
            if len(secret) >= MIN_SECRET_LENGTH:
                text = text.replace(secret, MASK)
        return text
