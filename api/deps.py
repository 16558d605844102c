"""Dependencies as Annotated aliases, so tests override dependencies rather than globals."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Query, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from api import problems
from api.guard import KEY_STATE
from jobsched.constants import (
    DEFAULT_PAGE_SIZE,
    MAX_ID_LENGTH,
    MAX_LOG_LINES,
    MAX_PAGE_SIZE,
    SCHEDULE_KEY_PREFIX,
)
from jobsched.errors import FieldProblem, ValidationFailedError
from jobsched.jobs.keys import authenticate, require_scope
from jobsched.models import ApiKey, Scope
from jobsched.ports import Stores

bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <API key>")


def get_stores(request: Request) -> Stores:
    stores: Stores = request.app.state.stores()
    return stores


StoresDep = Annotated[Stores, Depends(get_stores)]


def get_slots(request: Request) -> int:
    """The dispatch slots, for ETAs: the app's own (the local runtime's), else the settings'."""
    slots: int | None = request.app.state.slots
    if slots is None:
        from jobsched.settings import get_settings

        slots = get_settings().slots
    return slots


SlotsDep = Annotated[int, Depends(get_slots)]


def current_key(
    request: Request,
    stores: StoresDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> ApiKey:
    key: ApiKey | None = getattr(request.state, KEY_STATE, None)  # set by api.guard
    if key is None:
        key = authenticate(stores.keys, credentials.credentials if credentials else None)
    request.state.key_id = key.key_id  # for logs (the legacy API's deprecation warnings)
    return key


def requires(scope: Scope) -> Callable[..., ApiKey]:
    def check(request: Request, key: Annotated[ApiKey, Depends(current_key)]) -> ApiKey:
        require_scope(key, scope)
        refuse_repeated_query(request)
        refuse_unknown_query(request)
        return key

    return check


def any_key(request: Request, key: Annotated[ApiKey, Depends(current_key)]) -> ApiKey:
    """Any valid key, whatever its scopes (GET /keys/me: a key may always ask who it is)."""
    refuse_repeated_query(request)
    refuse_unknown_query(request)
    return key


NOT_A_PARAMETER = "is not a parameter of this operation"
REPEATED = "is given more than once; every parameter takes one value"


def refuse_repeated_query(request: Request) -> None:
    """`?cursor=a&cursor=b` is a 422 on every prefix: the framework would take the last one and
    drop the other in silence (no parameter of ours takes a list)."""
    names = [name for name, _ in request.query_params.multi_items()]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        problems = [FieldProblem(f"query.{name}", REPEATED) for name in repeated]
        raise ValidationFailedError(
            "; ".join(f"{p.field}: {p.message}" for p in problems), problems
        )


# The scheduler API; /scheduler is routed as it (api.aliases). The legacy API takes what old
# clients send.
STRICT_PREFIXES = ("/api/v2/",)


def refuse_unknown_query(request: Request) -> None:
    """A query parameter the route does not take is a 422 on the v2 API, not ignored: a
    `?dry_run=true` that did nothing would have created a real schedule. Checked once the key
    is known, so an unauthenticated request still gets its 401 first."""
    if not request.url.path.startswith(STRICT_PREFIXES):
        return
    route = request.scope.get("route")
    if route is None or getattr(route, "dependant", None) is None:
        return
    taken: frozenset[str] | None = getattr(route, TAKEN_ATTRIBUTE, None)
    if taken is None:  # once a route, kept on it: its dependencies do not change
        taken = frozenset(_query_names(route.dependant))
        setattr(route, TAKEN_ATTRIBUTE, taken)
    unknown = sorted(set(request.query_params) - taken)
    if unknown:
        problems = [FieldProblem(f"query.{name}", NOT_A_PARAMETER) for name in unknown]
        raise ValidationFailedError(
            "; ".join(f"{p.field}: {p.message}" for p in problems), problems
        )


TAKEN_ATTRIBUTE = "_jobsched_query_names"


def _query_names(dependant: Any) -> set[str]:
    names = {str(param.alias) for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


CanRead = Depends(requires(Scope.READ))
CanWrite = Depends(requires(Scope.WRITE))
CanAdmin = Depends(requires(Scope.ADMIN))
AdminKey = Annotated[ApiKey, CanAdmin]
AnyKey = Annotated[ApiKey, Depends(any_key)]
WriteKey = Annotated[ApiKey, CanWrite]  # a write that records who made it (a hold)

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="page size")]
LogLimit = Annotated[int, Query(ge=1, le=MAX_LOG_LINES, description="lines to return at most")]
Cursor = Annotated[
    str | None,
    Query(
        max_length=4096,
        description="next_cursor of the previous page of this list; any other value is 422",
    ),
]
# An id to filter a list by: DynamoDB rejects an empty key value (and over-long ones), which
# would otherwise surface as a 500.
IdFilter = Annotated[str | None, Query(min_length=1, max_length=MAX_ID_LENGTH)]
PathId = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH)]
DEFAULT_LIMIT = DEFAULT_PAGE_SIZE


def _client_key(key: str | None) -> str | None:
    # A schedule's fire records `schedule:<id>:<time>` as its key: a client's key of that form
    # could take a fire's place (the fire would find it and enqueue nothing).
    if key is not None and key.startswith(SCHEDULE_KEY_PREFIX):
        raise PydanticCustomError(
            "string_pattern_mismatch",
            f"keys starting {SCHEDULE_KEY_PREFIX!r} are the scheduler's own",
        )
    return key


# `Idempotency-Key` of every create (jobs/idempotency.py).
IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="a retry with the same key and request returns what the first call made, "
        "with `Idempotent-Replayed: true`, and writes nothing; the same key with another "
        "request or on another endpoint is a 409 (kept for 24 hours); a key starting "
        f"`{SCHEDULE_KEY_PREFIX}` is the scheduler's own, refused",
        # The whole rule for clients; validated in two parts (pydantic's regex has no lookahead).
        json_schema_extra={"pattern": rf"^(?!{SCHEDULE_KEY_PREFIX})[\x21-\x7e]+$"},
    ),
    AfterValidator(_client_key),
]
REPLAYED_HEADER = "Idempotent-Replayed"
_REPLAYED_DOC = {
    REPLAYED_HEADER: {"description": "`true` on a replay", "schema": {"type": "string"}}
}


def idempotent_responses(created: type | None = None) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI responses of a create that takes an Idempotency-Key: the 409 of a reused
    key, and the 200 that a replay answers with its header (for a create answering 201,
    `created` is the model of that 200)."""
    responses: dict[int | str, dict[str, Any]] = {
        409: {
            **problems.PROBLEM_SCHEMA,
            "description": "a conflict with the current state, or the Idempotency-Key was used "
            "with another request or on another endpoint",
        }
    }
    if created is not None:
        responses[200] = {
            "model": created,
            "description": "a replay: what an earlier call with the Idempotency-Key made",
            "headers": _REPLAYED_DOC,
        }
    else:  # the route's own 200, which a replay answers too
        responses[200] = {
            "description": "the answer (a replay's is of what the first call made)",
            "headers": _REPLAYED_DOC,
        }
    return responses


def mark_replayed(response: Response) -> None:
    """A replay answers what an earlier call with the key made: a create's 201 becomes 200
    (nothing was created this time), as POST /jobs has always answered; any other status is
    the route's own (a direct call's 202 while it runs)."""
    response.status_code = status.HTTP_200_OK
    response.headers[REPLAYED_HEADER] = "true"
