"""What the generating workloads (story_generation, research) share: ids, asking, writing."""

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from worker.providers import CompletionRequest, Provider, ProviderError, parse_json_object

DEFAULT_MODEL = "gemini/gemini-2.0-flash-exp"
MAX_MODEL_LENGTH = 200
ID_HEX_DIGITS = 16


def output_id(prefix: str, seed: str, index: int) -> str:
    """`<prefix><16 hex>` from the seed and the output's index: a rerun gives the same ids."""
    return prefix + hashlib.sha256(f"{seed}:{index}".encode()).hexdigest()[:ID_HEX_DIGITS]


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def ask_json(provider: Provider, request: CompletionRequest) -> dict[str, Any]:
    return parse_json_object(provider.complete(request))


def clip(value: object, limit: int) -> str:
    """A reply's field as text of at most `limit` characters ("" when it is not a string)."""
    return value.strip()[:limit].strip() if isinstance(value, str) else ""


def required_text(reply: dict[str, Any], name: str, limit: int) -> str:
    value = clip(reply.get(name), limit)
    if not value:
        raise ProviderError(f"the model's reply has no {name!r} text")
    return value


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write whole or not at all: the scheduler indexes these files, a torn one would break it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)
