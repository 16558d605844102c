"""Request and response shapes of the direct /story and /research reads. Stories and cards are
returned as stored, without their dedup sketch."""

from typing import Any

from pydantic import BaseModel, Field

from api.strict_json import MIN_MAGNITUDE
from jobsched.constants import MAX_DEDUP_CARDS
from jobsched.content.matching import Match
from jobsched.content.story_templates import StoryTemplate
from jobsched.content.usecases import DedupOutcome, Matching
from jobsched.models import REQUEST_CONFIG, exactly_one_of
from jobsched.models.content import (
    CARD_ID_PATTERN,
    ResearchCard,
    SourceKind,
    StoredCard,
    StoredStory,
    Story,
)
from jobsched.models.instants import Instant, TimeFromJson

HIDDEN = {"sketch"}


# The least threshold over 0 that a store holds (api.strict_json): the schema says so.
MIN_THRESHOLD = float(MIN_MAGNITUDE)


class Provenance(BaseModel):
    source_kind: SourceKind = Field(description="what produced it: a job's run or a reservation")
    source_id: str = Field(description="the run id or reservation id")
    job_id: str | None
    indexed_at: Instant


PROVENANCE = frozenset(Provenance.model_fields)


class CardIn(ResearchCard):
    """A card as given to validate, dedup and match: a card file, or a card exactly as
    /research/list returns it (what the API returns, it accepts back). Its provenance is the
    server's to set: accepted, checked for type, and ignored."""

    source_kind: SourceKind | None = None
    source_id: str | None = Field(default=None, max_length=200)
    job_id: str | None = Field(default=None, max_length=200)
    indexed_at: TimeFromJson | None = None

    def card(self) -> ResearchCard:
        return ResearchCard.model_validate(self.model_dump(exclude=set(PROVENANCE)))


def without_provenance(card: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in card.items() if key not in PROVENANCE}


class StoryOut(Story, Provenance):
    created_at: Instant  # in the one form every instant is shown in

    @classmethod
    def of(cls, story: StoredStory) -> "StoryOut":
        return cls.model_validate(story.model_dump(exclude=HIDDEN))


class CardOut(ResearchCard, Provenance):
    created_at: Instant

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

    cards: list[CardIn] = Field(min_length=1, max_length=MAX_DEDUP_CARDS)
    threshold: float | None = Field(
        default=None,
        ge=MIN_THRESHOLD,
        le=1,
        description="estimated Jaccard similarity; default: the server's",
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

    model_config = exactly_one_of("card", "card_id")

    card: CardIn | None = None
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


class DedupCheckBody(BaseModel):
    model_config = REQUEST_CONFIG

    threshold: float | None = Field(
        default=None,
        ge=MIN_THRESHOLD,
        le=1,
        description="estimated Jaccard similarity; default the setting",
    )


class DuplicateItemOut(BaseModel):
    id: str = Field(description="a story or card the job made")
    duplicate_of: str = Field(description="the stored item it is most similar to")
    similarity: float


class RunDedupOut(BaseModel):
    run_id: str
    job_id: str | None = Field(description="the job of the run; null for a reservation")
    checked: int = Field(description="stories and cards indexed from that run")
    duplicates: list[DuplicateItemOut]
    threshold: float
