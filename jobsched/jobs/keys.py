"""API keys: minted once (shown once), stored as a SHA-256 hash, checked in constant time."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, Field

from jobsched.constants import API_KEY_PREFIX, MAX_KEY_NAME_LENGTH
from jobsched.errors import (
    AuthenticationError,
    ConflictError,
    PermissionDeniedError,
    ValidationFailedError,
)
from jobsched.models import REQUEST_CONFIG, ApiKey, FromJson, Scope
from jobsched.ports import KeyStore


@dataclass(frozen=True)
class MintedKey:
    record: ApiKey
    secret: str  # the whole bearer token; never stored, shown once


def hash_secret(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mint_key(keys: KeyStore, name: str, scopes: list[Scope], token: str | None = None) -> MintedKey:
    """A new key; `token` lets the local runtime install a key its user chose."""
    if token is None:
        key_id = secrets.token_hex(6)
        token = f"{API_KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    else:
        parsed = parse_key_id(token)
        if parsed is None:
            raise ValueError(
                f"a key looks like {API_KEY_PREFIX}_<id>_<secret>, e.g. from `jobsched keys create`"
            )
        key_id = parsed
    record = ApiKey(key_id=key_id, name=name, scopes=scopes, key_hash=hash_secret(token))
    keys.put(record)
    return MintedKey(record, token)


def parse_key_id(token: str) -> str | None:
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != API_KEY_PREFIX or not key_id or not secret or not key_id.isalnum():
        return None
    return key_id


def authenticate(keys: KeyStore, token: str | None) -> ApiKey:
    """The key behind a bearer token, or AuthenticationError (one message for every failure)."""
    failure = AuthenticationError("a valid API key is required: Authorization: Bearer <key>")
    key_id = parse_key_id(token) if token else None
    if token is None or key_id is None:
        raise failure
    record = keys.get(key_id)
    if record is None or record.revoked_at is not None:
        raise failure
    if not hmac.compare_digest(record.key_hash, hash_secret(token)):
        raise failure
    return record


def require_scope(key: ApiKey, scope: Scope) -> None:
    if not key.allows(scope):
        raise PermissionDeniedError(f"this API key lacks the {scope.value!r} scope")


class KeyRequest(BaseModel):
    """A key to mint over the API (POST /keys)."""

    model_config = REQUEST_CONFIG

    name: str = Field(
        min_length=1, max_length=MAX_KEY_NAME_LENGTH, description="what the key is for: ci, alice"
    )
    scopes: list[Annotated[Scope, FromJson]] = Field(
        min_length=1,
        max_length=len(Scope),
        json_schema_extra={"uniqueItems": True},
        description="each once; admin implies write implies read",
    )


def create_key(keys: KeyStore, request: KeyRequest) -> MintedKey:
    if len(set(request.scopes)) != len(request.scopes):
        raise ValidationFailedError.on("scopes", "lists a scope more than once")
    return mint_key(keys, request.name, list(request.scopes))


def list_keys(keys: KeyStore) -> list[ApiKey]:
    """Every key, revoked ones too, newest first."""
    return sorted(keys.list_all(), key=lambda k: (k.created_at, k.key_id), reverse=True)


def revoke_key(keys: KeyStore, key_id: str, by: ApiKey) -> ApiKey:
    """The key, revoked from now on; revoking it again changes nothing (the first time stays).
    A key cannot revoke itself: an admin would lock themselves out with one mistyped id."""
    if key_id == by.key_id:
        raise ConflictError(
            f"key {key_id!r} is the key making this request and cannot revoke itself; "
            "revoke it with another admin key (or `jobsched keys revoke`)"
        )
    return keys.revoke(key_id)  # NotFoundError for an unknown key
