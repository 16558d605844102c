"""The files the generating workloads write, checked against their contract (container/README.md):
shared by the tests that run story_generation and research with either provider."""

import hashlib
import json
import re
from pathlib import Path
from typing import Any

DEFAULT_MODEL = "gemini/gemini-2.0-flash-exp"
STORY_KEYS = [
    "story_id", "title", "text", "topic", "genre", "card_id", "model", "provider", "created_at",
]  # fmt: skip
CARD_KEYS = [
    "card_id", "topic", "title", "summary", "facts", "tags", "sources", "model", "provider",
    "created_at",
]  # fmt: skip
CREATED_AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
TAG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
WEB_URL = re.compile(r"^https?://[^\s/?#]+\S*$")


def expected_id(prefix: str, seed: str, index: int) -> str:
    return prefix + hashlib.sha256(f"{seed}:{index}".encode()).hexdigest()[:16]


def written(out: Path, folder: str) -> dict[str, dict[str, Any]]:
    """The files under out/folder by their stem, each checked to be named for its id."""
    files = {path.stem: json.loads(path.read_text()) for path in (out / folder).glob("*.json")}
    assert sorted(p.name for p in (out / folder).iterdir()) == sorted(f"{s}.json" for s in files)
    return files


def check_story(story: dict[str, Any]) -> None:
    assert list(story) == STORY_KEYS
    assert re.fullmatch(r"sty_[0-9a-f]{16}", story["story_id"])
    assert isinstance(story["title"], str)
    assert 1 <= len(story["title"]) <= 200
    assert isinstance(story["text"], str)
    assert 1 <= len(story["text"]) <= 100_000
    for name in ("topic", "genre", "card_id"):
        assert story[name] is None or isinstance(story[name], str)
    assert story["provider"] in ("offline", "litellm")
    assert CREATED_AT.match(story["created_at"])


def check_card(card: dict[str, Any]) -> None:
    assert list(card) == CARD_KEYS
    assert re.fullmatch(r"crd_[0-9a-f]{16}", card["card_id"])
    assert 1 <= len(card["title"]) <= 200
    assert 1 <= len(card["summary"]) <= 5000
    assert 1 <= len(card["facts"]) <= 20
    assert all(isinstance(f, str) and 1 <= len(f) <= 1000 for f in card["facts"])
    assert len(card["tags"]) <= 20
    assert all(TAG.match(tag) and len(tag) <= 40 for tag in card["tags"])
    assert len(card["sources"]) <= 20
    for source in card["sources"]:
        assert list(source) == ["title", "url"]
        assert source["title"]
        assert WEB_URL.match(source["url"])
    assert card["provider"] in ("offline", "litellm")
    assert CREATED_AT.match(card["created_at"])


def without_times(files: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: {**doc, "created_at": None} for name, doc in files.items()}
