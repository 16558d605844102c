"""Request and response shapes of the direct /story and /research reads. Stories and cards are
returned as stored, without their dedup sketch."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from jobsched.constants import MAX_DEDUP_CARDS
from jobsched.content.matching import Match
from jobsched.content.story_templates import StoryTemplate
from jobsched.content.usecases import DedupOutcome, Matching
from jobsched.models import REQUEST_CONFIG
from jobsched.models.content import (
    CARD_ID_PATTERN,
    ResearchCard,
    SourceKind,
    StoredCard,
    StoredStory,
    Story,
)

HIDDEN = {"sketch"}


class Provenance(BaseModel):
    source_kind: SourceKind = Field(description="what produced it: a job's run or a reservation")
    source_id: str = Field(description="the run id or reservation id")
    job_id: str | None
    indexed_at: datetime


class StoryOut(Story, Provenance):
    @classmethod
    def of(cls, story: StoredStory) -> "StoryOut":
        return cls.model_validate(story.model_dump(exclude=HIDDEN))


class CardOut(ResearchCard, Provenance):
    @classmethod
    def of(cls, card: StoredCard) -> "CardOut":
        return cls.model_validate(card.model_dump(exclude=HIDDEN))


class StoryTemplateOut(StoryTemplate):
    @classmethod
    def of(cls, template: StoryTemplate) -> "StoryTemplateOut":
        return cls.model_validate(template.model_dump())


class CardProblem(BaseModel):
    field: str = Field(description="the failing field's path, e.g. facts.2 or sources.0.url")
    message: str


class ValidationOut(BaseModel):
    valid: bool
    errors: list[CardProblem] = Field(description="empty when valid")


class DedupBody(BaseModel):
    model_config = REQUEST_CONFIG

    cards: list[ResearchCard] = Field(min_length=1, max_length=MAX_DEDUP_CARDS)
    threshold: float | None = Field(
        default=None, gt=0, le=1, description="estimated Jaccard similarity; default: the server's"
    )
    against_stored: bool = Field(
        default=True, description="compare with the stored cards too, not only with each other"
    )


class UniqueOut(BaseModel):
    index: int = Field(description="the card's place in the request's list")
    card_id: str


class DuplicateOut(UniqueOut):
    duplicate_of: str = Field(description="the card id it nearly repeats")
    duplicate_of_index: int | None = Field(
        description="that card's place in the request's list; null for a stored card"
    )
    similarity: float


class DedupOut(BaseModel):
    threshold: float
    unique: list[UniqueOut]
    duplicates: list[DuplicateOut]

    @classmethod
    def of(cls, outcome: DedupOutcome) -> "DedupOut":
        return cls(
            threshold=outcome.threshold,
            unique=[UniqueOut(index=u.index, card_id=u.card_id) for u in outcome.unique],
            duplicates=[
                DuplicateOut(
                    index=d.index,
                    card_id=d.card_id,
                    duplicate_of=d.duplicate_of,
                    duplicate_of_index=d.duplicate_of_index,
                    similarity=d.similarity,
                )
                for d in outcome.duplicates
            ],
        )


class MatchingBody(BaseModel):
    """Exactly one of `card` (given inline) and `card_id` (a stored card)."""

    model_config = REQUEST_CONFIG

    card: ResearchCard | None = None
    card_id: str | None = Field(default=None, pattern=CARD_ID_PATTERN)


class MatchOut(BaseModel):
    template_id: str
    name: str
    genre: str
    score: float = Field(ge=0, le=1)
    reasons: list[str]
    params: dict[str, Any] = Field(description="params of a story_generation job for this style")

    @classmethod
    def of(cls, match: Match) -> "MatchOut":
        template = match.template
        return cls(
            template_id=template.template_id,
            name=template.name,
            genre=template.genre,
            score=match.score,
            reasons=match.reasons,
            params=match.params,
        )


class ExcludedOut(BaseModel):
    template_id: str
    reasons: list[str] = Field(description="the template's requirements the card fails")


class MatchingOut(BaseModel):
    card_id: str
    matches: list[MatchOut] = Field(description="best first; ties by template id")
    excluded: list[ExcludedOut]

    @classmethod
    def of(cls, matching: Matching) -> "MatchingOut":
        return cls(
            card_id=matching.card_id,
            matches=[MatchOut.of(match) for match in matching.matches],
            excluded=[
                ExcludedOut(template_id=e.template.template_id, reasons=e.reasons)
                for e in matching.excluded
            ],
        )
