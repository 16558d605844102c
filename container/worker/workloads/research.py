"""research: write `max_cards` research cards on a topic, one JSON file each under cards/.

Params: `topic` (str 1-500, required), `max_cards` (int 1-50, 5), `model` (str,
"gemini/gemini-2.0-flash-exp"), `seed` (str, default the unit's id). Others are ignored.

Each card is `cards/<card_id>.json`, card_id = "crd_" + 16 hex of sha256("<seed>:<i>"). What a
model returns is cut to the card's limits: tags slugified, sources without an http(s) URL dropped.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from worker.context import InvalidParams, WorkloadContext
from worker.providers import ProviderError
from worker.workloads import generation, params

MAX_CARDS = 50
MAX_TOPIC_LENGTH = 500
MAX_TITLE_LENGTH = 200
MAX_SUMMARY_LENGTH = 5000
MAX_FACT_LENGTH = 1000
MAX_ITEMS = 20  # facts, tags and sources each
MAX_TAG_LENGTH = 40
MAX_URL_LENGTH = 2000
MAX_TOKENS = 2048
NOT_SLUG = re.compile(r"[^a-z0-9]+")
WEB_URL = re.compile(r"^https?://[^\s/?#]+\S*$")  # http(s), a host, no blanks

# Card i takes angle i (cycling), so that the cards of one run cover different ground.
ANGLES = (
    "an overview: what it is and why it matters",
    "its history and how it came about",
    "how it works, in mechanisms and numbers",
    "current research and recent developments",
    "practical applications and who uses them",
    "risks, limits and criticism",
    "economics, costs and scale",
    "open questions and what to watch next",
)

SYSTEM = (
    "You are a careful researcher. You write concise, factual research cards, and cite only "
    "sources you are confident exist."
)
_TEXT = {"type": "string"}
REPLY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {**_TEXT, "maxLength": MAX_TITLE_LENGTH},
        "summary": {**_TEXT, "maxLength": MAX_SUMMARY_LENGTH},
        "facts": {"type": "array", "items": {**_TEXT, "maxLength": MAX_FACT_LENGTH}},
        "tags": {"type": "array", "items": {**_TEXT, "maxLength": MAX_TAG_LENGTH}},
        "sources": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "title": {**_TEXT, "maxLength": MAX_TITLE_LENGTH},
                    "url": {**_TEXT, "format": "uri"},
                },
            },
        },
    },
    "required": ["title", "summary", "facts", "tags", "sources"],
}
CARDS = generation.ItemKind(
    folder="cards",
    id_field="card_id",
    id_prefix="crd_",
    system=SYSTEM,
    reply_schema=REPLY_SCHEMA,
    max_tokens=MAX_TOKENS,
)


@dataclass(frozen=True)
class ResearchParams:
    topic: str
    max_cards: int
    model: str
    seed: str


def read_params(raw: dict[str, Any], ctx: WorkloadContext) -> ResearchParams:
    topic = params.optional_text(raw, "topic", MAX_TOPIC_LENGTH)
    if topic is None:
        raise InvalidParams("topic is required (a string of 1 to 500 characters)")
    return ResearchParams(
        topic=topic,
        max_cards=params.integer(raw, "max_cards", 5, 1, MAX_CARDS),
        model=params.text(raw, "model", generation.MAX_MODEL_LENGTH, generation.DEFAULT_MODEL),
        seed=params.seed(raw, ctx),
    )


def prompt(p: ResearchParams, index: int) -> str:
    return "\n".join(
        [
            f"Write research card number {index + 1} on the topic below.",
            f"Topic: {p.topic}",
            f"Angle: {ANGLES[index % len(ANGLES)]}",
            "Reply with a JSON object: title, summary (one paragraph), facts (short factual "
            "statements), tags (short lowercase keywords), sources (objects with title and url).",
        ]
    )


def _items(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def facts(reply: dict[str, Any]) -> list[str]:
    found = [generation.clip(item, MAX_FACT_LENGTH) for item in _items(reply.get("facts"))]
    kept = [fact for fact in found if fact][:MAX_ITEMS]
    if not kept:
        raise ProviderError("the model's reply has no facts")
    return kept


def slug(value: object) -> str:
    """A tag as `^[a-z0-9][a-z0-9-]*$`: accents dropped, other runs of characters made '-'."""
    if not isinstance(value, str):
        return ""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return NOT_SLUG.sub("-", ascii_text.lower()).strip("-")[:MAX_TAG_LENGTH].rstrip("-")


def tags(reply: dict[str, Any]) -> list[str]:
    unique = dict.fromkeys(tag for tag in map(slug, _items(reply.get("tags"))) if tag)
    return list(unique)[:MAX_ITEMS]


def _web_url(value: object) -> str | None:
    url = value.strip() if isinstance(value, str) else ""
    return url if len(url) <= MAX_URL_LENGTH and WEB_URL.match(url) else None


def sources(reply: dict[str, Any]) -> list[dict[str, str]]:
    kept = []
    for item in _items(reply.get("sources")):
        url = _web_url(item.get("url")) if isinstance(item, dict) else None
        if url is None:
            continue
        title = generation.clip(item.get("title"), MAX_TITLE_LENGTH) or urlsplit(url).netloc
        kept.append({"title": title, "url": url})
    return kept[:MAX_ITEMS]


def fields(p: ResearchParams, reply: dict[str, Any]) -> dict[str, Any]:
    """A card's own fields, in the file's order: the topic, then the reply cut to the limits."""
    return {
        "topic": p.topic,
        "title": generation.clip(reply.get("title"), MAX_TITLE_LENGTH)
        or p.topic[:MAX_TITLE_LENGTH],
        "summary": generation.required_text(reply, "summary", MAX_SUMMARY_LENGTH),
        "facts": facts(reply),
        "tags": tags(reply),
        "sources": sources(reply),
    }


def run(raw: dict[str, Any], ctx: WorkloadContext) -> int:
    p = read_params(raw, ctx)
    batch = generation.Batch(
        kind=CARDS,
        count=p.max_cards,
        model=p.model,
        seed=p.seed,
        prompt=partial(prompt, p),
        fields=partial(fields, p),
    )
    return generation.generate(ctx, batch)
