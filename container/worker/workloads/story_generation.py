"""story_generation: write `max_stories` short stories, one JSON file each under stories/.

Params: `max_stories` (int 1-50, 1), `enable_dedup` (bool, true: near-duplicates are dropped
when the scheduler indexes the outputs; the run only records the choice), `model` (str,
"gemini/gemini-2.0-flash-exp"), `topic` (str <= 500), `genre` (str <= 60), `card_id` (the
research card the stories draw on: crd_ and 16 hex), `seed` (str, default the unit's id).
Others are ignored.

Each story is `stories/<story_id>.json`, story_id = "sty_" + 16 hex of sha256("<seed>:<i>").
"""

import re
from dataclasses import dataclass
from functools import partial
from typing import Any

from worker.context import InvalidParams, WorkloadContext
from worker.workloads import generation, params

MAX_STORIES = 50
MAX_TOPIC_LENGTH = 500
MAX_GENRE_LENGTH = 60
CARD_ID = re.compile(r"^crd_[0-9a-f]{16}$")  # a research card's id, as that workload makes them
MAX_TITLE_LENGTH = 200
MAX_TEXT_LENGTH = 100_000
MAX_TOKENS = 4096
UNTITLED = "Untitled"

SYSTEM = "You are a fiction writer. You write original short stories in plain prose."
REPLY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": MAX_TITLE_LENGTH},
        "text": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT_LENGTH},
    },
    "required": ["title", "text"],
}
STORIES = generation.ItemKind(
    folder="stories",
    id_field="story_id",
    id_prefix="sty_",
    system=SYSTEM,
    reply_schema=REPLY_SCHEMA,
    max_tokens=MAX_TOKENS,
)


@dataclass(frozen=True)
class StoryParams:
    max_stories: int
    enable_dedup: bool
    model: str
    topic: str | None
    genre: str | None
    card_id: str | None
    seed: str


def card_id(raw: dict[str, Any]) -> str | None:
    value = params.optional_text(raw, "card_id", len("crd_") + generation.ID_HEX_DIGITS)
    if value is not None and not CARD_ID.match(value):
        raise InvalidParams("card_id must be a research card's id: crd_ and 16 lowercase hex")
    return value


def read_params(raw: dict[str, Any], ctx: WorkloadContext) -> StoryParams:
    return StoryParams(
        max_stories=params.integer(raw, "max_stories", 1, 1, MAX_STORIES),
        enable_dedup=params.typed(raw, "enable_dedup", bool, True),
        model=params.text(raw, "model", generation.MAX_MODEL_LENGTH, generation.DEFAULT_MODEL),
        topic=params.optional_text(raw, "topic", MAX_TOPIC_LENGTH),
        genre=params.optional_text(raw, "genre", MAX_GENRE_LENGTH),
        card_id=card_id(raw),
        seed=params.seed(raw, ctx),
    )


def prompt(p: StoryParams, index: int) -> str:
    # The index, not the count: story i reads the same whatever max_stories a rerun asks for.
    lines = ["Write an original short story."]
    if p.topic:
        lines.append(f"Topic: {p.topic}")
    if p.genre:
        lines.append(f"Genre: {p.genre}")
    lines += [
        f"This is story number {index + 1} of a batch: give it its own characters, setting "
        "and plot.",
        'Reply with a JSON object: {"title": the title, "text": the story, paragraphs '
        "separated by blank lines}.",
    ]
    return "\n".join(lines)


def fields(p: StoryParams, reply: dict[str, Any]) -> dict[str, Any]:
    """A story's own fields, in the file's order: the reply cut to the limits, then the params."""
    return {
        "title": generation.clip(reply.get("title"), MAX_TITLE_LENGTH) or UNTITLED,
        "text": generation.required_text(reply, "text", MAX_TEXT_LENGTH),
        "topic": p.topic,
        "genre": p.genre,
        "card_id": p.card_id,
    }


def run(raw: dict[str, Any], ctx: WorkloadContext) -> int:
    p = read_params(raw, ctx)
    batch = generation.Batch(
        kind=STORIES,
        count=p.max_stories,
        model=p.model,
        seed=p.seed,
        prompt=partial(prompt, p),
        fields=partial(fields, p),
    )
    return generation.generate(ctx, batch, enable_dedup=p.enable_dedup)
