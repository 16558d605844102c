"""Dependencies as Annotated aliases, so tests override dependencies rather than globals."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.guard import KEY_STATE
from jobsched.constants import DEFAULT_PAGE_SIZE, MAX_ID_LENGTH, MAX_LOG_LINES, MAX_PAGE_SIZE
from jobsched.errors import FieldProblem, ValidationFailedError
from jobsched.jobs.keys import authenticate, require_scope
from jobsched.models import ApiKey, Scope
from jobsched.ports import Stores

bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <API key>")


def get_stores(request: Request) -> Stores:
    stores: Stores = request.app.state.stores()
    return stores


StoresDep = Annotated[Stores, Depends(get_stores)]


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
        refuse_unknown_query(request)
        return key

    return check


NOT_A_PARAMETER = "is not a parameter of this operation"
STRICT_PREFIXES = ("/api/v2/", "/scheduler/")  # the legacy API takes what old clients send


def refuse_unknown_query(request: Request) -> None:
    """A query parameter the route does not take is a 422 on the v2 API, not ignored: a
    `?dry_run=true` that did nothing would have created a real schedule. Checked once the key
    is known, so an unauthenticated request still gets its 401 first."""
    if not request.url.path.startswith(STRICT_PREFIXES):
        return
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    unknown = sorted(set(request.query_params) - _query_names(dependant))
    if unknown:
        problems = [FieldProblem(f"query.{name}", NOT_A_PARAMETER) for name in unknown]
        raise ValidationFailedError(
            "; ".join(f"{p.field}: {p.message}" for p in problems), problems
        )


def _query_names(dependant: Any) -> set[str]:
    names = {str(param.alias) for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


CanRead = Depends(requires(Scope.READ))
CanWrite = Depends(requires(Scope.WRITE))
CanAdmin = Depends(requires(Scope.ADMIN))
AdminKey = Annotated[ApiKey, CanAdmin]

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

# `Idempotency-Key` of the creates (jobs, and a schedule's trigger).
IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="the same key returns the same job (kept for 24 hours)",
    ),
]
