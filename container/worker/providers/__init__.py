"""Model providers: where a workload's generated text comes from.

`JOBSCHED_MODEL_PROVIDER` picks one for the whole unit (see worker.config): `offline` (the
default: deterministic, free, no network) or `litellm` (real models through litellm).
"""

from collections.abc import Callable

from worker.aws import SecretReader
from worker.providers.base import (
    Completion,
    CompletionRequest,
    Provider,
    ProviderError,
    parse_json_object,
)
from worker.providers.keys import ModelKeys
from worker.providers.litellm_provider import LiteLLMProvider
from worker.providers.offline import OfflineProvider

__all__ = [
    "Completion",
    "CompletionRequest",
    "LiteLLMProvider",
    "ModelKeys",
    "OfflineProvider",
    "Provider",
    "ProviderError",
    "make_provider",
    "parse_json_object",
]


def make_provider(
    name: str,
    keys_secret: str,
    connect: Callable[[], SecretReader],
    on_keys_loaded: Callable[[list[str]], None] | None = None,
) -> Provider:
    """The provider `name` (already checked by worker.config); nothing is called yet."""
    if name == "litellm":
        keys = ModelKeys(keys_secret, connect, on_keys_loaded) if keys_secret else None
        return LiteLLMProvider(keys)
    if name == "offline":
        return OfflineProvider()
    raise ValueError(f"unknown model provider {name!r}")
