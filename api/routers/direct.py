"""The direct APIs: POST /story/generate and POST /research/run (spec: "Direct API
Integration"). They create no job: each reserves the next slot, waits for its outcome and
answers with the stories or cards it made; after the configured wait (or `Prefer: wait=N`)
they answer 202 with Location and Retry-After pointing at the reservation to poll."""

import time
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Body, Header, Request, Response, status
from pydantic import BaseModel, Field

from api import problems
from api.content_schemas import CardOut, StoryOut
from api.deps import CanWrite, IdempotencyKey, StoresDep, idempotent_responses, mark_replayed
from jobsched.content.usecases import get_card, get_story
from jobsched.errors import NotFoundError
from jobsched.jobs.direct import ended, preferred_wait, run_direct, wait_left
from jobsched.models import QueueState, Reservation, ReservationStatus
from jobsched.params import JsonObject
from jobsched.ports import Stores

if TYPE_CHECKING:
    from jobsched.settings import Settings

STORY_TEMPLATE = "story_generation"
RESEARCH_TEMPLATE = "research"
POLL_PREFIX = "/api/v2/reservations/"

router = APIRouter(
    tags=["direct (next-slot reservation)"],
    responses=problems.responses(401, 403, 404, 409, 413, 422, 503),
)

Params = Annotated[
    JsonObject,
    Body(
        description="the job params, as a legacy trigger takes them",
        examples=[{"max_stories": 1, "enable_dedup": True, "model": "gemini/gemini-2.0-flash-exp"}],
    ),
]
Prefer = Annotated[str | None, Header(description="`wait=N`: answer within N seconds (RFC 7240)")]


class DirectOut(BaseModel):
    reservation_id: str
    status: ReservationStatus = Field(
        description="completed or failed; pending or running in a 202 (poll Location)"
    )
    exit_code: int | None = None
    error: str | None = None
    stories: list[StoryOut] = Field(default_factory=list)
    cards: list[CardOut] = Field(default_factory=list)
    duplicates: list[dict[str, Any]] = Field(
        default_factory=list, description="outputs dropped as near duplicates (enable_dedup)"
    )
    artifacts: list[str] = Field(default_factory=list)
    location: str | None = Field(default=None, description="where to poll, in a 202")
    waiting: str | None = Field(
        default=None,
        description="in a 202 of a call not started yet: why, when it is held (a paused queue "
        "holds direct calls too; the pause's note is quoted)",
    )


def get_settings() -> "Settings":
    from jobsched.settings import get_settings as settings  # lazy: off the cold start

    return settings()


def _answer(
    stores: Stores, response: Response, reservation: Reservation, retry_after: int
) -> DirectOut:
    out = DirectOut(reservation_id=reservation.reservation_id, status=reservation.status)
    if not ended(reservation):
        location = POLL_PREFIX + reservation.reservation_id
        response.status_code = status.HTTP_202_ACCEPTED
        response.headers["Location"] = location
        response.headers["Retry-After"] = str(retry_after)
        out.location = location
        if reservation.status == ReservationStatus.PENDING:
            out.waiting = _held_by(stores.queue.state())
        return out
    result = reservation.result or {}
    out.exit_code = reservation.exit_code
    out.error = reservation.error
    out.artifacts = reservation.artifacts
    out.duplicates = list(result.get("duplicates", []))
    out.stories = [StoryOut.of(get_story(stores.content, i)) for i in _found(result, "stories")]
    out.cards = [CardOut.of(get_card(stores.content, i)) for i in _found(result, "cards")]
    return out


def _held_by(state: QueueState) -> str | None:
    if not state.paused:
        return None
    return "the queue is paused" + (f": {state.note}" if state.note else "")


def _found(result: dict[str, Any], key: str) -> list[str]:
    return [str(item) for item in result.get(key, [])]


def _since_arrival(request: Request) -> tuple[float | None, float | None]:
    """Seconds since the request reached API Gateway (its `timeEpoch`, in the event Mangum
    passes on) and the seconds left to the Lambda invocation; None for what is not known (off
    Lambda no gateway cuts the request, and the wait counts from now)."""
    event = request.scope.get("aws.event") or {}
    arrived_ms = (event.get("requestContext") or {}).get("timeEpoch")
    waited = time.time() - arrived_ms / 1000 if isinstance(arrived_ms, int | float) else None
    remaining = getattr(request.scope.get("aws.context"), "get_remaining_time_in_millis", None)
    return waited, remaining() / 1000 if callable(remaining) else None


def _direct(
    stores: Stores,
    request: Request,
    response: Response,
    template_id: str,
    params: dict[str, Any],
    prefer: str | None,
    idempotency_key: str | None,
) -> DirectOut:
    settings = get_settings()
    wait, applied = preferred_wait(
        prefer, settings.direct_wait_seconds, settings.direct_max_wait_seconds
    )
    if applied:
        response.headers["Preference-Applied"] = f"wait={wait:g}"
    waited, invocation_left = _since_arrival(request)
    behind_gateway = waited is not None or invocation_left is not None
    left = wait_left(
        wait,
        waited=waited or 0.0,
        invocation_left=invocation_left,
        margin=settings.direct_answer_margin_seconds if behind_gateway else 0.0,
    )
    reservation, created = run_direct(
        stores, template_id, params, left, idempotency_key=idempotency_key
    )
    if not created:  # answered as the first call would be now: 200 once ended, else 202
        mark_replayed(response)
    try:
        return _answer(stores, response, reservation, settings.direct_retry_after_seconds)
    except NotFoundError as exc:  # an indexed item vanished since: the poll still has the ids
        raise NotFoundError(f"reservation {reservation.reservation_id}: {exc}") from exc


@router.post(
    "/story/generate",
    dependencies=[CanWrite],
    responses={
        202: {"model": DirectOut, "description": "still running: poll Location"},
        **idempotent_responses(),
    },
)
def generate_story(
    stores: StoresDep,
    request: Request,
    response: Response,
    params: Params,
    prefer: Prefer = None,
    idempotency_key: IdempotencyKey = None,
) -> DirectOut:
    """Generate stories now: the next slot, right after the running job, ahead of the queue.
    Answers with the stories (200), or after the wait with 202 and the reservation to poll."""
    return _direct(stores, request, response, STORY_TEMPLATE, params, prefer, idempotency_key)


@router.post(
    "/research/run",
    dependencies=[CanWrite],
    responses={
        202: {"model": DirectOut, "description": "still running: poll Location"},
        **idempotent_responses(),
    },
)
def run_research(
    stores: StoresDep,
    request: Request,
    response: Response,
    params: Params,
    prefer: Prefer = None,
    idempotency_key: IdempotencyKey = None,
) -> DirectOut:
    """Research a topic now (`{"topic": ...}`): the next slot, ahead of the queue. Answers with
    the research cards (200), or after the wait with 202 and the reservation to poll."""
    return _direct(stores, request, response, RESEARCH_TEMPLATE, params, prefer, idempotency_key)
