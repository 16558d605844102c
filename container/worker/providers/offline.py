"""The offline provider: deterministic text with no network and no key.

The same request (prompt, model, seed) always gives the same text; any change gives another.
Texts are built from word lists by a generator seeded with a hash of the request, with the
prompt's topic woven in, so that outputs read as about their topic. With a json_schema it
returns JSON of that shape (see `_Writer.value` for the subset of JSON Schema it follows).

Its usage is counted by a fixed rule, so that a run's totals are reproducible: one token per
`CHARS_PER_TOKEN` characters, rounded up, of the system text and prompt together (prompt
tokens) and of the reply (completion tokens). It costs nothing: cost 0.0, a priced call.
"""

import hashlib
import json
import random
import re
from typing import Any

from worker.providers import words
from worker.providers.base import Completion, CompletionRequest

TOPIC_LINE = re.compile(r"^\s*(topic|genre)\s*:\s*(.+)$", re.IGNORECASE | re.MULTILINE)
WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]")
MAX_TOPIC_PHRASES = 8
MAX_PHRASE_WORDS = 3
TOPIC_TITLE_SHARE = 0.7  # of titles that name the topic, when there is one
SMALL_WORDS = frozenset({"a", "an", "and", "for", "of", "the"})  # lowercase inside a title
CHARS_PER_TOKEN = 4  # about what English text averages with common tokenizers


def count_tokens(text: str) -> int:
    """Tokens by the offline rule: one per CHARS_PER_TOKEN characters, rounded up."""
    return -(-len(text) // CHARS_PER_TOKEN)


def _seed(request: CompletionRequest) -> int:
    key = "\x00".join((request.model, request.seed, request.prompt)).encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big")


def topic_phrases(prompt: str) -> list[str]:
    """What a text should be about: runs of content words (at most three) of the prompt's
    "Topic:"/"Genre:" lines, else of the whole prompt. "tidal energy in small fishing towns"
    gives "tidal energy" and "small fishing towns"."""
    labelled = "\n".join(match.group(2) for match in TOPIC_LINE.finditer(prompt))
    phrases: list[str] = []
    for chunk in re.split(r"[^A-Za-z' -]+", labelled or prompt):
        run: list[str] = []
        for word in [*WORD.findall(chunk), ""]:  # "" ends the last run
            if word and word.lower() not in words.STOPWORDS and len(run) < MAX_PHRASE_WORDS:
                run.append(word.lower())
                continue
            if run:
                phrases.append(" ".join(run))
            run = [word.lower()] if word and word.lower() not in words.STOPWORDS else []
    return list(dict.fromkeys(phrases))[:MAX_TOPIC_PHRASES]


class _Writer:
    def __init__(self, rng: random.Random, topic: list[str]) -> None:
        self._rng = rng
        self._topic = topic

    def _slots(self) -> dict[str, str]:
        pick = self._rng.choice
        return {
            "A": pick(words.ADJECTIVES),
            "N": pick(words.NOUNS),
            "M": pick(words.NOUNS),
            "V": pick(words.VERBS),
            "D": pick(words.ADVERBS),
            "C": pick(words.NAMES),
            "W": pick(words.TIMES),
            "T": pick(self._topic) if self._topic else pick(words.NOUNS),
        }

    def keyword(self) -> str:
        if self._topic and self._rng.random() < 0.5:
            return self._rng.choice(self._topic)
        return f"{self._rng.choice(words.ADJECTIVES)} {self._rng.choice(words.NOUNS)}"

    def title(self) -> str:
        templates: tuple[str, ...] = words.TITLES
        if self._topic and self._rng.random() < TOPIC_TITLE_SHARE:
            templates = tuple(t for t in words.TITLES if "{T}" in t)
        text = self._rng.choice(templates).format(**self._slots())
        return " ".join(
            word if i and word in SMALL_WORDS else word[:1].upper() + word[1:]
            for i, word in enumerate(text.split())
        )

    def sentence(self) -> str:
        text = self._rng.choice(words.SENTENCES).format(**self._slots())
        return text[:1].upper() + text[1:]

    def sentences(self, low: int, high: int) -> str:
        return " ".join(self.sentence() for _ in range(self._rng.randint(low, high)))

    def paragraphs(self) -> str:
        count = self._rng.randint(3, 5)
        return "\n\n".join(self.sentences(4, 7) for _ in range(count))

    def url(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.keyword().lower()).strip("-") or "note"
        return f"https://example.org/{slug}/{self._rng.randrange(16**6):06x}"

    def string(self, schema: dict[str, Any]) -> str:
        """Sized by the schema's maxLength: a keyword, a title, a sentence, a summary, a text."""
        if schema.get("format") == "uri":
            return self.url()
        limit = schema.get("maxLength")
        if not isinstance(limit, int):
            return self.sentence()
        if limit <= 40:
            return self.keyword()[:limit]
        if limit <= 200:
            return self.title()[:limit]
        if limit <= 1000:
            return self.sentence()[:limit]
        if limit <= 5000:
            return self.sentences(2, 4)[:limit]
        return self.paragraphs()[:limit]

    def array(self, schema: dict[str, Any]) -> list[Any]:
        low = max(3, int(schema.get("minItems", 0)))
        high = min(5, int(schema.get("maxItems", 5)))
        count = self._rng.randint(min(low, high), high)
        return [self.value(schema.get("items", {"type": "string"})) for _ in range(count)]

    def value(self, schema: dict[str, Any]) -> Any:
        """A value of the schema's type: object (every property), array, string, number, bool."""
        kind = schema.get("type", "string")
        if kind == "object":
            properties: dict[str, Any] = schema.get("properties", {})
            return {name: self.value(sub) for name, sub in properties.items()}
        if kind == "array":
            return self.array(schema)
        if kind == "integer":
            return self._rng.randint(int(schema.get("minimum", 0)), int(schema.get("maximum", 100)))
        if kind == "number":
            return round(self._rng.uniform(0, 1), 3)
        if kind == "boolean":
            return self._rng.random() < 0.5
        return self.string(schema)


class OfflineProvider:
    """Deterministic and free: the default, so a run never calls a paid API by accident."""

    @property
    def name(self) -> str:
        return "offline"

    def complete(self, request: CompletionRequest) -> Completion:
        rng = random.Random(_seed(request))  # noqa: S311 (reproducible text, not security)
        writer = _Writer(rng, topic_phrases(request.prompt))
        if request.json_schema is None:
            text = writer.paragraphs()
        else:
            text = json.dumps(writer.value(request.json_schema), ensure_ascii=False)
        return Completion(
            text=text,
            model=request.model,
            prompt_tokens=count_tokens(request.system + request.prompt),
            completion_tokens=count_tokens(text),
            cost_usd=0.0,
        )
