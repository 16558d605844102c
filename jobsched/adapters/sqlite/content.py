"""Stories and research cards (dynamodb/content.py's SQLite twin), one row each keyed by its kind
and id (sty_… or crd_…: the id alone already tells the kind).

Lists are newest first (created_key: the item's own created_at); by_source finds what one run
or reservation produced. A put writes only a new id, so re-indexing a run writes nothing and the
first indexing of an item is the one kept. An item DynamoDB would refuse as too large is refused
here too, so the embedded default never keeps what AWS could not.
"""

import json
import sqlite3
from collections.abc import Iterator

from jobsched.adapters.item_size import MAX_ITEM_BYTES, attributes_size
from jobsched.adapters.sqlite.codec import dump, load, sort_time
from jobsched.adapters.sqlite.db import Database
from jobsched.adapters.sqlite.pages import Listing, newest_first
from jobsched.errors import ContentTooLargeError, NotFoundError
from jobsched.models.content import ContentKind, StoredCard, StoredItem, StoredStory
from jobsched.ports import Page

CONTENT = Listing(table="content", id_column="content_id", sort_column="created_key")
# DynamoDB's limits, as its twin's items meet them: the item, and an index's partition key
# (source_id, of by_source). Its items also hold kind as STORY or CARD.
MAX_INDEX_PARTITION_BYTES = 2048
DYNAMODB_KINDS = {ContentKind.STORY: "STORY", ContentKind.CARD: "CARD"}
SKETCH_CHUNK = 500  # rows a read of sketches takes: a pass never holds every item at once


def _kind_and_id(item: StoredItem) -> tuple[ContentKind, str]:
    if isinstance(item, StoredStory):
        return ContentKind.STORY, item.story_id
    return ContentKind.CARD, item.card_id


def _check_size(item: StoredItem, kind: ContentKind, content_id: str) -> None:
    """Raise as the DynamoDB twin does when DynamoDB refuses the item for its size."""
    attributes = item.model_dump(mode="json", exclude_none=True) | {
        "content_id": content_id,
        "kind": DYNAMODB_KINDS[kind],
        "created_key": sort_time(item.created_at),
    }
    size = attributes_size(attributes)
    if size > MAX_ITEM_BYTES or len(item.source_id.encode()) > MAX_INDEX_PARTITION_BYTES:
        # 100,000 characters of text fit unless most take 4 bytes in UTF-8
        raise ContentTooLargeError(
            f"{content_id} is too large to store (a DynamoDB item holds 400 KB)"
        )


def put_content(conn: sqlite3.Connection, item: StoredItem) -> bool:
    """The one writer of the content table's columns: True when the id was new and is written,
    False when it was stored already (which changes nothing)."""
    kind, content_id = _kind_and_id(item)
    _check_size(item, kind, content_id)  # first, as DynamoDB validates before its condition
    cursor = conn.execute(
        "INSERT INTO content (content_id, kind, topic, source_id, created_key, doc) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (kind, content_id) DO NOTHING",
        (
            content_id,
            kind.value,
            item.topic,
            item.source_id,
            sort_time(item.created_at),
            dump(item),
        ),
    )
    return cursor.rowcount == 1


class SqliteContentStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def put_story(self, story: StoredStory) -> bool:
        with self.db.write("put_story") as conn:
            return put_content(conn, story)

    def put_card(self, card: StoredCard) -> bool:
        with self.db.write("put_card") as conn:
            return put_content(conn, card)

    def _get(self, content_id: str, kind: ContentKind) -> str:
        with self.db.read(f"get_{kind.value}") as conn:
            row = conn.execute(
                "SELECT doc FROM content WHERE kind = ? AND content_id = ?",
                (kind.value, content_id),
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no {kind.value} {content_id!r}")
        return str(row["doc"])

    def get_story(self, story_id: str) -> StoredStory:
        return load(StoredStory, self._get(story_id, ContentKind.STORY))

    def get_card(self, card_id: str) -> StoredCard:
        return load(StoredCard, self._get(card_id, ContentKind.CARD))

    def _list(
        self, kind: ContentKind, limit: int, cursor: str | None, topic: str | None
    ) -> tuple[list[str], str | None]:
        # kind first: it names the list's index, topic filters it (as DynamoDB's by_kind read).
        with self.db.read(f"list_{kind.value}s") as conn:
            return newest_first(conn, CONTENT, {"kind": kind.value, "topic": topic}, limit, cursor)

    def list_stories(
        self, limit: int, cursor: str | None, topic: str | None = None
    ) -> Page[StoredStory]:
        docs, next_cursor = self._list(ContentKind.STORY, limit, cursor, topic)
        return Page([load(StoredStory, doc) for doc in docs], next_cursor)

    def list_cards(
        self, limit: int, cursor: str | None, topic: str | None = None
    ) -> Page[StoredCard]:
        docs, next_cursor = self._list(ContentKind.CARD, limit, cursor, topic)
        return Page([load(StoredCard, doc) for doc in docs], next_cursor)

    def sketches(self, kind: ContentKind) -> Iterator[tuple[str, list[int]]]:
        """Oldest first, as DynamoDB's by_kind index reads, a chunk per read: no read stays
        open while the caller works (it may write between items)."""
        after = ("", "")
        while True:
            with self.db.read("sketches") as conn:
                rows = conn.execute(
                    "SELECT created_key, content_id, json_extract(doc, '$.sketch') AS sketch "
                    "FROM content WHERE kind = ? AND (created_key, content_id) > (?, ?) "
                    "ORDER BY created_key, content_id LIMIT ?",
                    (kind.value, *after, SKETCH_CHUNK),
                ).fetchall()
            for row in rows:
                # json.loads: a sketch's values are 64-bit unsigned, beyond SQLite's integers
                yield str(row["content_id"]), [int(v) for v in json.loads(row["sketch"] or "[]")]
            if len(rows) < SKETCH_CHUNK:
                return
            after = (rows[-1]["created_key"], rows[-1]["content_id"])

    def by_source(self, source_id: str) -> list[StoredItem]:
        """Oldest first."""
        with self.db.read("by_source") as conn:
            rows = conn.execute(
                "SELECT kind, doc FROM content WHERE source_id = ? "
                "ORDER BY created_key, content_id",
                (source_id,),
            ).fetchall()
        found: list[StoredItem] = []
        for row in rows:
            if row["kind"] == ContentKind.STORY.value:
                found.append(load(StoredStory, row["doc"]))
            else:
                found.append(load(StoredCard, row["doc"]))
        return found
