"""The model-provider port: what a workload asks for, and the one call that answers it."""

import json
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Completion:
    """A model's answer and what it used: the tokens and, where the provider can price the
    model, the cost in US dollars (None: unpriced, which is not the same as free)."""

    text: str
    model: str  # as the request named it, so that a run's usage adds up by what it asked for
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None


class ProviderError(Exception):
    """A model could not answer usefully (no package, no key, an API error, no JSON).

    `spent` is what a call used when the model did answer, but unusably (no text, no JSON): the
    call was paid for all the same, and is counted in the run's usage.
    """

    def __init__(self, message: str, spent: Completion | None = None) -> None:
        super().__init__(message)
        self.spent = spent


@dataclass(frozen=True)
class CompletionRequest:
    system: str
    prompt: str
    model: str  # passed to the provider as is, e.g. "gemini/gemini-2.0-flash-exp"
    seed: str = ""  # same request and seed, same answer where the provider can promise it
    json_schema: dict[str, Any] | None = None  # the JSON object wanted; None: plain text
    max_tokens: int = 2048


class Provider(Protocol):
    @property
    def name(self) -> str:
        """Recorded with every output: "offline" or "litellm"."""
        ...

    def complete(self, request: CompletionRequest) -> Completion:
        """The model's text (with a json_schema, one JSON object as text) and its usage.

        Raises ProviderError."""
        ...


def parse_json_object(text: str) -> dict[str, Any]:
    """The first JSON object in `text`: models wrap JSON in prose or ``` fences often enough."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, dict):
            return value
        start = text.find("{", start + 1)
    raise ProviderError(f"the model's reply holds no JSON object: {text[:200]!r}")
