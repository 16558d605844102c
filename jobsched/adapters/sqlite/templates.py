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
from jobsched.adapters.template_cache import TemplateCache, VersionCache, unversioned
from jobsched.errors import ConflictError, NotFoundError
from jobsched.models import JobTemplate, utcnow
from jobsched.ports import Page

LIST_NAME = "templates.id"  # in the cursor: the list that issued it (pages.list_name)
VERSIONS_LIST = "template_versions"


def put_template(conn: sqlite3.Connection, template: JobTemplate) -> None:
    """The one writer of the templates table's columns."""
    refuse_oversized(template, f"template {template.template_id!r}", kind="TEMPLATE")
    conn.execute(
        "INSERT OR REPLACE INTO templates (template_id, created_key, doc) VALUES (?, ?, ?)",
        (template.template_id, sort_time(template.created_at), dump(template)),
    )


def put_template_version(conn: sqlite3.Connection, template: JobTemplate) -> None:
    """Keep this version as saved (its content never changes, so a rewrite is the same row)."""
    conn.execute(
        "INSERT OR REPLACE INTO template_versions (template_id, version, doc) VALUES (?, ?, ?)",
        (template.template_id, template.version, dump(template)),
    )


def find_template(conn: sqlite3.Connection, template_id: str) -> JobTemplate | None:
    row = conn.execute("SELECT doc FROM templates WHERE template_id = ?", (template_id,)).fetchone()
    return load(JobTemplate, row["doc"]) if row else None


class SqliteTemplateStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache = TemplateCache()
        self._versions = VersionCache()

    def create(self, template: JobTemplate) -> None:
        with self.db.write("create_template") as conn:
            if find_template(conn, template.template_id) is not None:
                raise ConflictError(f"template {template.template_id!r} already exists")
            put_template(conn, template)
            put_template_version(conn, template)

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
            put_template_version(conn, template)

    def archive(self, template_id: str) -> JobTemplate:
        return self._set_archived(template_id, archived=True)

    def restore(self, template_id: str) -> JobTemplate:
        return self._set_archived(template_id, archived=False)

    def _set_archived(self, template_id: str, archived: bool) -> JobTemplate:
        """Archive (again, harmlessly) or restore (only what is archived); the version stays."""
        self.forget(template_id)
        with self.db.write("archive_template" if archived else "restore_template") as conn:
            current = find_template(conn, template_id)
            if current is None:
                raise NotFoundError(f"no template {template_id!r}")
            if not archived and not current.archived:
                raise ConflictError(f"template {template_id!r} is not archived")
            changed = current.model_copy(update={"archived": archived, "updated_at": utcnow()})
            put_template(conn, changed)
        return changed

    def get_version(self, template_id: str, version: int) -> JobTemplate:
        kept = self._versions.get(template_id, version)
        if kept is not None:
            return kept
        with self.db.read("get_template_version") as conn:
            row = conn.execute(
                "SELECT doc FROM template_versions WHERE template_id = ? AND version = ?",
                (template_id, version),
            ).fetchone()
        if row is not None:
            snapshot = load(JobTemplate, row["doc"])
            self._versions.keep(snapshot)
            return snapshot
        return unversioned(self.get(template_id), version)  # NotFoundError for an unknown one

    def list_versions(self, template_id: str, limit: int, cursor: str | None) -> Page[JobTemplate]:
        """Newest first."""
        key, _ = decode_cursor(cursor)
        before = 2**62
        if key is not None:
            if len(key) != 3 or key[2] != VERSIONS_LIST or key[0] != template_id:
                raise foreign_cursor()
            if not isinstance(key[1], int) or isinstance(key[1], bool):
                raise foreign_cursor()
            before = key[1]
        with self.db.read("list_template_versions") as conn:
            rows = conn.execute(
                "SELECT version, doc FROM template_versions WHERE template_id = ? AND version < ? "
                "ORDER BY version DESC LIMIT ?",
                (template_id, before, limit + 1),
            ).fetchall()
        if not rows and cursor is None:
            return Page([self.get(template_id)])  # saved before versions were kept
        page = rows[:limit]
        next_cursor = None
        if len(rows) > limit and page:
            next_cursor = encode_cursor([template_id, page[-1]["version"], VERSIONS_LIST])
        return Page([load(JobTemplate, row["doc"]) for row in page], next_cursor)
