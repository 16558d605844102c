"""The content use cases behind the direct /story and /research reads: lists, reads, card
validation, dedup of cards given inline, matching of a card to story templates, and the dedup
check of the items one run produced."""

from dataclasses import dataclass
from typing import TypedDict

from jobsched.content.indexing import Duplicate
from jobsched.content.matching import Match, matching_templates, unmet_requirements
from jobsched.content.schemas import validate_card
from jobsched.content.similarity import Sketch, most_similar, sketch
from jobsched.content.story_templates import STORY_TEMPLATES, StoryTemplate
from jobsched.models.content import (
    ContentKind,
    ResearchCard,
    StoredCard,
    StoredStory,
    compared_text,
    item_id,
    kind_of,
)
from jobsched.ports import Page
from jobsched.ports.content import ContentStore

__all__ = [
    "dedup",
    "dedup_check",
    "get_card",
    "get_story",
    "list_cards",
    "list_stories",
    "matching",
    "story_templates",
    "validate_card",
]


def list_stories(
    store: ContentStore, limit: int, cursor: str | None, topic: str | None = None
) -> Page[StoredStory]:
    return store.list_stories(limit, cursor, topic)


def get_story(store: ContentStore, story_id: str) -> StoredStory:
    return store.get_story(story_id)


def list_cards(
    store: ContentStore, limit: int, cursor: str | None, topic: str | None = None
) -> Page[StoredCard]:
    return store.list_cards(limit, cursor, topic)


def get_card(store: ContentStore, card_id: str) -> StoredCard:
    return store.get_card(card_id)


def story_templates() -> tuple[StoryTemplate, ...]:
    return STORY_TEMPLATES


# --- dedup of cards given inline ------------------------------------------------------------


@dataclass(frozen=True)
class UniqueCard:
    index: int  # in the request's list
    card_id: str


@dataclass(frozen=True)
class DuplicateCard:
    index: int
    card_id: str
    duplicate_of: str  # a card id
    duplicate_of_index: int | None  # the earlier card of the request it repeats; None: stored
    similarity: float


@dataclass(frozen=True)
class DedupOutcome:
    unique: list[UniqueCard]
    duplicates: list[DuplicateCard]
    threshold: float


def dedup(
    store: ContentStore, items: list[ResearchCard], threshold: float, against_stored: bool
) -> DedupOutcome:
    """Which cards are near duplicates: of a stored card (when `against_stored`), or of one
    earlier in `items` that is itself unique. A stored card with the same id is the card itself,
    not a duplicate. Each duplicate names its most similar card."""
    stored = dict(store.sketches(ContentKind.CARD)) if against_stored else {}
    # Candidates are keyed (card id, index in `items`), the index None for a stored card.
    kept: list[tuple[tuple[str, int | None], Sketch]] = []
    unique: list[UniqueCard] = []
    duplicates: list[DuplicateCard] = []
    for index, card in enumerate(items):
        card_sketch = sketch(compared_text(card))
        others = [
            ((ident, None), value) for ident, value in stored.items() if ident != card.card_id
        ]
        best = most_similar(card_sketch, [*others, *kept])
        if best is not None and best[1] >= threshold:
            (of_id, of_index), similarity = best
            duplicates.append(
                DuplicateCard(index, card.card_id, of_id, of_index, round(similarity, 4))
            )
            continue
        kept.append(((card.card_id, index), card_sketch))
        unique.append(UniqueCard(index, card.card_id))
    return DedupOutcome(unique, duplicates, threshold)


# --- matching ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Excluded:
    template: StoryTemplate
    reasons: list[str]


@dataclass(frozen=True)
class Matching:
    card_id: str
    matches: list[Match]
    excluded: list[Excluded]  # templates the card cannot become, and why


def matching(store: ContentStore, card_or_id: ResearchCard | str) -> Matching:
    """The story templates a card (given, or stored under an id) suits, best first."""
    card = store.get_card(card_or_id) if isinstance(card_or_id, str) else card_or_id
    excluded = [
        Excluded(template, reasons)
        for template in STORY_TEMPLATES
        if (reasons := unmet_requirements(card, template))
    ]
    return Matching(card.card_id, matching_templates(card, STORY_TEMPLATES), excluded)


# --- dedup check of one run's items -----------------------------------------------------------


class DedupCheck(TypedDict):
    checked: int
    duplicates: list[Duplicate]
    threshold: float


def dedup_check(store: ContentStore, source_id: str, threshold: float) -> DedupCheck:
    """Compare each item indexed from one run (or reservation) with every other stored item of
    its kind; each item at or over the threshold is reported with its most similar item."""
    items = store.by_source(source_id)
    sketches: dict[ContentKind, dict[str, Sketch]] = {}
    duplicates: list[Duplicate] = []
    for item in items:
        kind = kind_of(item)
        if kind not in sketches:
            sketches[kind] = dict(store.sketches(kind))
        ident = item_id(item)
        others = ((other, value) for other, value in sketches[kind].items() if other != ident)
        best = most_similar(item.sketch, others)
        if best is not None and best[1] >= threshold:
            duplicates.append(
                Duplicate(id=ident, duplicate_of=best[0], similarity=round(best[1], 4))
            )
    return DedupCheck(checked=len(items), duplicates=duplicates, threshold=threshold)
