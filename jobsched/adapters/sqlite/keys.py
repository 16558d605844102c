"""API key records (dynamodb/keys.py's SQLite twin): a name, scopes and the SHA-256 of the
secret, never the secret."""

import sqlite3

from jobsched.adapters.sqlite.codec import dump, load
from jobsched.adapters.sqlite.db import Database
from jobsched.errors import ConflictError, NotFoundError
from jobsched.models import ApiKey, utcnow


def put_key(conn: sqlite3.Connection, key: ApiKey) -> None:
    """The one writer of the api_keys table's columns."""
    conn.execute(
        "INSERT OR REPLACE INTO api_keys (key_id, doc) VALUES (?, ?)", (key.key_id, dump(key))
    )


def find_key(conn: sqlite3.Connection, key_id: str) -> ApiKey | None:
    row = conn.execute("SELECT doc FROM api_keys WHERE key_id = ?", (key_id,)).fetchone()
    return load(ApiKey, row["doc"]) if row else None


class SqliteKeyStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def put(self, key: ApiKey) -> None:
        with self.db.write("put_key") as conn:
            if find_key(conn, key.key_id) is not None:
                # DynamoDB's put fails its condition here too (ids are random: never in practice)
                raise ConflictError(f"key {key.key_id!r} already exists")
            put_key(conn, key)

    def get(self, key_id: str) -> ApiKey | None:
        with self.db.read("get_key") as conn:
            return find_key(conn, key_id)

    def list_all(self) -> list[ApiKey]:
        with self.db.read("list_keys") as conn:
            rows = conn.execute("SELECT doc FROM api_keys ORDER BY key_id").fetchall()
        return sorted((load(ApiKey, row["doc"]) for row in rows), key=lambda k: k.created_at)

    def revoke(self, key_id: str) -> ApiKey:
        """Revoked at the first revocation's time; a second one changes nothing."""
        with self.db.write("revoke_key") as conn:
            key = find_key(conn, key_id)
            if key is None:
                raise NotFoundError(f"no key {key_id!r}")
            if key.revoked_at is None:
                key = key.model_copy(update={"revoked_at": utcnow()})
                put_key(conn, key)
        return key
