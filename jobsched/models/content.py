"""Stories and research cards as the workloads write them (the files' contract), and the
records the store keeps: the same fields plus where each came from and its dedup sketch.

The file models forbid unknown keys and carry every limit, so they are the input validation of
indexing and of the API's bodies alike; `schemas.py` publishes their JSON Schemas.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from jobsched.models import utcnow

STORY_ID_PATTERN = r"^sty_[0-9a-f]{16}$"
CARD_ID_PATTERN = r"^crd_[0-9a-f]{16}$"
TAG_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
# http or https, a host, no blanks; ASCII blanks spelled out, as `\s` is one class in
# ECMA-262 (the OpenAPI's readers) and another in the validator.
URL_PATTERN = r"^https?://[^ \t\n\v\f\r/?#]+[^ \t\n\v\f\r]*$"


class ContentKind(StrEnum):
    STORY = "story"
    CARD = "card"


class SourceKind(StrEnum):
    """What produced an indexed item: a queued job's run, or a direct call's reservation."""

    RUN = "run"
    RESERVATION = "reservation"


def _timestamp_text(value: Any) -> Any:
    # JSON gives a timestamp as a string; pydantic alone would also take a number (epoch
    # seconds), which the published schema (a date-time string) does not allow.
    if isinstance(value, str | datetime):
        return value
    raise ValueError("must be an RFC 3339 date-time string")


Timestamp = Annotated[AwareDatetime, BeforeValidator(_timestamp_text)]
Text = Annotated[str, Field(min_length=1)]


class FileModel(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Source(FileModel):
    title: str = Field(min_length=1, max_length=500)
    url: str = Field(max_length=2048, pattern=URL_PATTERN, description="an http(s) URL")


class ResearchCard(FileModel):
    """What a research run learnt about a topic, ready to be turned into stories."""

    card_id: str = Field(pattern=CARD_ID_PATTERN, description="crd_ and 16 lowercase hex digits")
    topic: str = Field(min_length=1, max_length=500)
    title: str = Field(min_length=1, max_length=200)
    summary: str = Field(min_length=1, max_length=5_000)
    facts: list[Annotated[str, Field(min_length=1, max_length=1_000)]] = Field(
        min_length=1, max_length=20
    )
    tags: list[Annotated[str, Field(min_length=1, max_length=40, pattern=TAG_PATTERN)]] = Field(
        default_factory=list, max_length=20, description="lowercase words or-hyphenated-words"
    )
    sources: list[Source] = Field(default_factory=list, max_length=20)
    model: str = Field(min_length=1, max_length=200, description="the LLM, e.g. gemini/...")
    provider: str = Field(min_length=1, max_length=100, description="offline or litellm")
    created_at: Timestamp


class Story(FileModel):
    """A generated story, optionally written from a research card."""

    story_id: str = Field(pattern=STORY_ID_PATTERN, description="sty_ and 16 lowercase hex digits")
    title: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=100_000)
    topic: str | None = Field(default=None, max_length=500)
    genre: str | None = Field(default=None, max_length=100)
    card_id: str | None = Field(default=None, pattern=CARD_ID_PATTERN)
    model: str = Field(min_length=1, max_length=200)
    provider: str = Field(min_length=1, max_length=100)
    created_at: Timestamp


class Indexed(BaseModel):
    """What indexing adds to an item: where it came from, when, and its MinHash sketch (kept for
    dedup, never returned by the API)."""

    source_kind: SourceKind
    source_id: str = Field(min_length=1)
    job_id: str | None = None
    indexed_at: datetime = Field(default_factory=utcnow)
    sketch: list[int] = Field(default_factory=list)


class StoredStory(Story, Indexed):
    pass


class StoredCard(ResearchCard, Indexed):
    pass


StoredItem = StoredStory | StoredCard


def item_id(item: Story | ResearchCard) -> str:
    return item.story_id if isinstance(item, Story) else item.card_id


def kind_of(item: Story | ResearchCard) -> ContentKind:
    return ContentKind.STORY if isinstance(item, Story) else ContentKind.CARD


def compared_text(item: Story | ResearchCard) -> str:
    """The text dedup compares: a story's title and text; a card's title, summary and facts."""
    if isinstance(item, Story):
        return f"{item.title}\n{item.text}"
    return "\n".join([item.title, item.summary, *item.facts])
