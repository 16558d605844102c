"""Job templates (dynamodb/templates.py's SQLite twin), with the same short in-process cache for
the hot path (enqueue).

The cache is safe for the same reason as there: the jobs store re-reads the template's version
and archived flag inside its insert transaction, so a stale entry makes the insert fail and the
caller read the template again.
"""

import sqlite3

from jobsched.adapters.cursors import foreign_cursor
from jobsched.adapters.item_size import refuse_oversized
from jobsched.adapters.sqlite.codec import decode_cursor, dump, encode_cursor, load, sort_time
from jobsched.adapters.sqlite.db import Database
from jobsched.adapters.template_cache import TemplateCache
from jobsched.errors import ConflictError, NotFoundError
from jobsched.models import JobTemplate, utcnow
from jobsched.ports import Page

LIST_NAME = "templates.id"  # in the cursor: the list that issued it (pages.list_name)


def put_template(conn: sqlite3.Connection, template: JobTemplate) -> None:
    """The one writer of the templates table's columns."""
    refuse_oversized(template, f"template {template.template_id!r}", kind="TEMPLATE")
    conn.execute(
        "INSERT OR REPLACE INTO templates (template_id, created_key, doc) VALUES (?, ?, ?)",
        (template.template_id, sort_time(template.created_at), dump(template)),
    )


def find_template(conn: sqlite3.Connection, template_id: str) -> JobTemplate | None:
    row = conn.execute("SELECT doc FROM templates WHERE template_id = ?", (template_id,)).fetchone()
    return load(JobTemplate, row["doc"]) if row else None


class SqliteTemplateStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache = TemplateCache()

    def create(self, template: JobTemplate) -> None:
        with self.db.write("create_template") as conn:
            if find_template(conn, template.template_id) is not None:
                raise ConflictError(f"template {template.template_id!r} already exists")
            put_template(conn, template)

    def get(self, template_id: str) -> JobTemplate:
        with self.db.read("get_template") as conn:
            template = find_template(conn, template_id)
        if template is None:
            raise NotFoundError(f"no template {template_id!r}")
        self._cache.keep(template)
        return template

    def get_cached(self, template_id: str) -> JobTemplate:
        return self._cache.fresh(template_id) or self.get(template_id)

    def forget(self, template_id: str) -> None:
        self._cache.forget(template_id)

    def list_page(self, limit: int, cursor: str | None) -> Page[JobTemplate]:
        """By template id, ascending: the DynamoDB list reads an index sorted by id."""
        key, _ = decode_cursor(cursor)
        after = ""
        if key is not None:
            if len(key) != 2 or key[1] != LIST_NAME or not isinstance(key[0], str):
                raise foreign_cursor()
            after = key[0]
        with self.db.read("list_templates") as conn:
            rows = conn.execute(
                "SELECT template_id, doc FROM templates WHERE template_id > ? "
                "ORDER BY template_id LIMIT ?",
                (after, limit + 1),
            ).fetchall()
        page = rows[:limit]
        next_cursor = None
        if len(rows) > limit and page:
            next_cursor = encode_cursor([page[-1]["template_id"], LIST_NAME])
        return Page([load(JobTemplate, row["doc"]) for row in page], next_cursor)

    def replace(self, template: JobTemplate, expected_version: int) -> None:
        """Write a new version, only over the version the caller read and never when archived."""
        self.forget(template.template_id)
        with self.db.write("replace_template") as conn:
            current = find_template(conn, template.template_id)
            if current is None or current.version != expected_version or current.archived:
                raise ConflictError(
                    f"template {template.template_id!r} changed or was archived meanwhile; "
                    "read it again"
                )
            put_template(conn, template)

    def archive(self, template_id: str) -> JobTemplate:
        self.forget(template_id)
        with self.db.write("archive_template") as conn:
            current = find_template(conn, template_id)
            if current is None:
                raise NotFoundError(f"no template {template_id!r}")
            archived = current.model_copy(update={"archived": True, "updated_at": utcnow()})
            put_template(conn, archived)
        return archived
