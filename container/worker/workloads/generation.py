"""What the generating workloads (story_generation, research) share: the run's loop over its
items (ask the model, write `<folder>/<id>.json`, log progress, stop between items), ids, and the
reading of a reply's text fields. Each workload keeps its own params, prompt, reply schema and
the cutting of a reply to its item's fields."""

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from worker.config import EXIT_OK, EXIT_STOPPED
from worker.context import WorkloadContext
from worker.providers import CompletionRequest, ProviderError, parse_json_object

DEFAULT_MODEL = "gemini/gemini-2.0-flash-exp"
MAX_MODEL_LENGTH = 200
ID_HEX_DIGITS = 16

Prompt = Callable[[int], str]  # the item's index -> what the model is asked
Fields = Callable[[dict[str, Any]], dict[str, Any]]  # the model's reply -> the item's own fields


@dataclass(frozen=True)
class ItemKind:
    """What a generating workload writes, one file per item, and how it asks for an item."""

    folder: str  # under the output dir, and the `kind` logged: "stories", "cards"
    id_field: str  # first in each file, and the file's name: "story_id", "card_id"
    id_prefix: str  # "sty_", "crd_"
    system: str
    reply_schema: dict[str, Any]
    max_tokens: int


def output_id(prefix: str, seed: str, index: int) -> str:
    """`<prefix><16 hex>` from the seed and the output's index: a rerun gives the same ids."""
    return prefix + hashlib.sha256(f"{seed}:{index}".encode()).hexdigest()[:ID_HEX_DIGITS]


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


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


@dataclass(frozen=True)
class Batch:
    """One run's items: `count` of `kind`, from `model`, with ids and replies seeded by `seed`."""

    kind: ItemKind
    count: int
    model: str
    seed: str
    prompt: Prompt
    fields: Fields


def item(ctx: WorkloadContext, batch: Batch, index: int) -> dict[str, Any]:
    """Item `index` as written: its id, its own fields from the reply, then where it came from."""
    request = CompletionRequest(
        system=batch.kind.system,
        prompt=batch.prompt(index),
        model=batch.model,
        seed=batch.seed,
        json_schema=batch.kind.reply_schema,
        max_tokens=batch.kind.max_tokens,
    )
    reply = parse_json_object(ctx.provider.complete(request).text)
    return {
        batch.kind.id_field: output_id(batch.kind.id_prefix, batch.seed, index),
        **batch.fields(reply),
        "model": batch.model,
        "provider": ctx.provider.name,
        "created_at": utc_now(),
    }


def generate(ctx: WorkloadContext, batch: Batch, **logged: object) -> int:
    """Write the batch's items as `<folder>/<id>.json`, logging each; stop between items when
    asked (EXIT_STOPPED, the items written so far are kept). `logged` goes on the first line."""
    kind = batch.kind
    ctx.log(
        "generating",
        kind=kind.folder,
        count=batch.count,
        provider=ctx.provider.name,
        model=batch.model,
        seed=batch.seed,
        **logged,
    )
    for index in range(batch.count):
        if ctx.stop.is_set():
            return EXIT_STOPPED
        document = item(ctx, batch, index)
        item_id = document[kind.id_field]
        write_json(ctx.output_dir / kind.folder / f"{item_id}.json", document)
        ctx.log("progress", done=index + 1, total=batch.count, **{kind.id_field: item_id})
    return EXIT_OK
