"""The direct /story and /research reads: stored stories and research cards, card validation,
dedup and template matching, and the built-in story templates.

Mounted unprefixed and under /api/v1 like the legacy job API, but not deprecated. Every route
needs only the read scope: the POSTs compute an answer and change nothing.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request

from api import problems
from api.content_schemas import (
    CardOut,
    CardProblem,
    DedupBody,
    DedupOut,
    MatchingBody,
    MatchingOut,
    StoryOut,
    StoryTemplateOut,
    ValidationOut,
    without_provenance,
)
from api.deps import DEFAULT_LIMIT, CanRead, Cursor, Limit, PathId, StoresDep
from api.schemas import PageOut
from jobsched.content import usecases as use
from jobsched.errors import FieldProblem, ValidationFailedError

router = APIRouter(
    tags=["stories and research cards"],
    dependencies=[CanRead],
    responses=problems.responses(401, 403, 404, 413, 422, 503),
)

Topic = Annotated[
    str | None, Query(min_length=1, max_length=500, description="only items of exactly this topic")
]


def dedup_threshold(request: Request) -> float:
    """The app's (tests set `app.state.dedup_threshold`), else the settings'."""
    configured = getattr(request.app.state, "dedup_threshold", None)
    if isinstance(configured, float):
        return configured
    from jobsched.settings import get_settings  # lazy: pydantic-settings loads on first use

    return get_settings().dedup_threshold


@router.get("/story/list")
def list_stories(
    stores: StoresDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None, topic: Topic = None
) -> PageOut[StoryOut]:
    """Stored stories, newest first."""
    page = use.list_stories(stores.content, limit, cursor, topic)
    return PageOut(items=[StoryOut.of(s) for s in page.items], next_cursor=page.next_cursor)


@router.get("/story/templates")
def list_story_templates() -> PageOut[StoryTemplateOut]:
    """The built-in story templates (styles a research card can become); one page."""
    return PageOut(items=[StoryTemplateOut.of(t) for t in use.story_templates()])


@router.get("/story/{story_id}")
def get_story(stores: StoresDep, story_id: PathId) -> StoryOut:
    return StoryOut.of(use.get_story(stores.content, story_id))


@router.post("/research/validate")
def validate_card(card: Annotated[dict[str, Any], Body()]) -> ValidationOut:
    """Check a research card against its schema. A card that fails is a 200 answer listing its
    problems; a body that is not a JSON object is a 422."""
    problems_found = use.validate_card(without_provenance(card))
    return ValidationOut(
        valid=not problems_found,
        errors=[CardProblem(field=p.field, message=p.message) for p in problems_found],
    )


@router.get("/research/list")
def list_cards(
    stores: StoresDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None, topic: Topic = None
) -> PageOut[CardOut]:
    """Stored research cards, newest first."""
    page = use.list_cards(stores.content, limit, cursor, topic)
    return PageOut(items=[CardOut.of(c) for c in page.items], next_cursor=page.next_cursor)


@router.post("/research/dedup")
def dedup_cards(stores: StoresDep, request: Request, body: DedupBody) -> DedupOut:
    """Which of the given cards nearly repeat a stored card or an earlier one of the list.
    Nothing is stored."""
    threshold = body.threshold if body.threshold is not None else dedup_threshold(request)
    cards = [card.card() for card in body.cards]
    return DedupOut.of(use.dedup(stores.content, cards, threshold, body.against_stored))


@router.post("/research/matching-templates")
def matching_templates(stores: StoresDep, body: MatchingBody) -> MatchingOut:
    """The story templates a card suits, best first, each with the params of its
    story_generation job; the templates whose requirements the card fails are listed apart."""
    if (body.card is None) == (body.card_id is None):
        message = "give exactly one of card and card_id"
        raise ValidationFailedError(
            message, [FieldProblem("card", message), FieldProblem("card_id", message)]
        )
    card = body.card.card() if body.card is not None else str(body.card_id)
    return MatchingOut.of(use.matching(stores.content, card))
