"""/keys: who am I, and the admin's list, create and revoke of API keys (as `jobsched keys`)."""

from fastapi import APIRouter, Response, status

from api import problems
from api.deps import AdminKey, AnyKey, CanAdmin, PathId, StoresDep
from api.schemas import KeyCreated, KeyOut, PageOut
from jobsched.jobs import keys as use

router = APIRouter(prefix="/keys", tags=["keys"])


@router.get("/me")
def who_am_i(key: AnyKey) -> KeyOut:
    """The key making the request, whatever its scopes."""
    return KeyOut.of(key)


@router.get("", dependencies=[CanAdmin])
def list_keys(stores: StoresDep) -> PageOut[KeyOut]:
    """Every key, revoked ones too, newest first, in one page (keys are few)."""
    return PageOut(items=[KeyOut.of(key) for key in use.list_keys(stores.keys)])


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[CanAdmin])
def create_key(stores: StoresDep, response: Response, body: use.KeyRequest) -> KeyCreated:
    """A new key; `secret` is the bearer token, shown in this answer only. Not idempotent (no
    `Idempotency-Key`): a replay would have to show the secret again. A retry after a lost
    answer makes a second key; revoke the one never received (`GET /keys` lists it)."""
    minted = use.create_key(stores.keys, body)
    response.headers["Cache-Control"] = "no-store"  # a secret: no cache keeps this answer
    return KeyCreated(**KeyOut.of(minted.record).model_dump(), secret=minted.secret)


@router.post(
    "/{key_id}/revoke",
    responses={
        409: {
            **problems.PROBLEM_SCHEMA,
            "description": "the key making the request: a key cannot revoke itself",
        }
    },
)
def revoke_key(stores: StoresDep, key: AdminKey, key_id: PathId) -> KeyOut:
    """Requests with the key are refused (401) from now on. Revoking a revoked key answers it
    as it is (the first revocation's time). 404 for an unknown key, 409 for the key making the
    request (use another admin key)."""
    return KeyOut.of(use.revoke_key(stores.keys, key_id, key))
