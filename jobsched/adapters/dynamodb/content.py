"""Stories and research cards, one item each keyed by its id (sty_… or crd_…).

Lists read the by_kind index newest first (created_key: the item's own created_at); by_source
finds what one run or reservation produced. Puts are conditional on the id being new, so
re-indexing a run writes nothing and the first indexing of an item is the one kept.
"""

from collections.abc import Iterator
from typing import Any

from jobsched.adapters.dynamodb.client import (
    Dynamo,
    error_code,
    is_condition_failure,
    store_errors,
)
from jobsched.adapters.dynamodb.codec import decode, deserialize_map, encode, sort_time
from jobsched.adapters.dynamodb.pagination import ListIndexes, filtered_query, read_page
from jobsched.constants import BY_KIND_INDEX, BY_SOURCE_INDEX
from jobsched.errors import ContentTooLargeError, NotFoundError
from jobsched.models.content import ContentKind, StoredCard, StoredItem, StoredStory
from jobsched.ports import Page

KINDS = {ContentKind.STORY: "STORY", ContentKind.CARD: "CARD"}


class DynamoContentStore:
    def __init__(self, dynamo: Dynamo) -> None:
        self.dynamo = dynamo
        self.table = dynamo.table("content")

    def _lists(self, kind: ContentKind) -> ListIndexes:
        return ListIndexes(
            table=self.table,
            table_keys=("content_id",),
            kind=KINDS[kind],
            sort_key="created_key",
            by_attribute={},  # topic is a filter on the kind's index
            by_kind=BY_KIND_INDEX,
        )

    def _put(self, item: StoredItem, content_id: str, kind: ContentKind) -> bool:
        try:
            with store_errors():
                self.dynamo.client.put_item(
                    TableName=self.table,
                    Item=encode(
                        item,
                        content_id=content_id,
                        kind=KINDS[kind],
                        created_key=sort_time(item.created_at),
                    ),
                    ConditionExpression="attribute_not_exists(content_id)",
                )
        except Exception as exc:
            if is_condition_failure(exc):
                return False
            if error_code(exc) == "ValidationException" and "size" in str(exc).lower():
                # 100,000 characters of text fit unless most take 4 bytes in UTF-8
                raise ContentTooLargeError(
                    f"{content_id} is too large to store (a DynamoDB item holds 400 KB)"
                ) from exc
            raise
        return True

    def put_story(self, story: StoredStory) -> bool:
        return self._put(story, story.story_id, ContentKind.STORY)

    def put_card(self, card: StoredCard) -> bool:
        return self._put(card, card.card_id, ContentKind.CARD)

    def _get(self, content_id: str, kind: ContentKind) -> dict[str, Any]:
        with store_errors():
            response = self.dynamo.client.get_item(
                TableName=self.table, Key={"content_id": {"S": content_id}}
            )
        item = response.get("Item")
        if item is None or item.get("kind", {}).get("S") != KINDS[kind]:
            raise NotFoundError(f"no {kind.value} {content_id!r}")
        return item

    def get_story(self, story_id: str) -> StoredStory:
        return decode(StoredStory, self._get(story_id, ContentKind.STORY))

    def get_card(self, card_id: str) -> StoredCard:
        return decode(StoredCard, self._get(card_id, ContentKind.CARD))

    def list_stories(
        self, limit: int, cursor: str | None, topic: str | None = None
    ) -> Page[StoredStory]:
        query = filtered_query(self._lists(ContentKind.STORY), {"topic": topic})
        items, next_cursor, _ = read_page(self.dynamo, query, limit, cursor)
        return Page([decode(StoredStory, item) for item in items], next_cursor)

    def list_cards(
        self, limit: int, cursor: str | None, topic: str | None = None
    ) -> Page[StoredCard]:
        query = filtered_query(self._lists(ContentKind.CARD), {"topic": topic})
        items, next_cursor, _ = read_page(self.dynamo, query, limit, cursor)
        return Page([decode(StoredCard, item) for item in items], next_cursor)

    def _query_all(self, **params: Any) -> Iterator[dict[str, Any]]:
        paginator = self.dynamo.client.get_paginator("query")
        with store_errors():
            for page in paginator.paginate(TableName=self.table, **params):
                yield from page.get("Items", [])

    def sketches(self, kind: ContentKind) -> Iterator[tuple[str, list[int]]]:
        # Only the id and the sketch cross the wire, but DynamoDB still reads (and bills) the
        # whole items: a dedup pass costs one read of every item of the kind.
        for item in self._query_all(
            IndexName=BY_KIND_INDEX,
            KeyConditionExpression="kind = :kind",
            ExpressionAttributeValues={":kind": {"S": KINDS[kind]}},
            ProjectionExpression="content_id, sketch",
        ):
            data = deserialize_map(item)
            yield str(data["content_id"]), [int(value) for value in data.get("sketch", [])]

    def by_source(self, source_id: str) -> list[StoredItem]:
        found: list[StoredItem] = []
        for item in self._query_all(
            IndexName=BY_SOURCE_INDEX,
            KeyConditionExpression="source_id = :source",
            ExpressionAttributeValues={":source": {"S": source_id}},
        ):
            if item["kind"]["S"] == KINDS[ContentKind.STORY]:
                found.append(decode(StoredStory, item))
            else:
                found.append(decode(StoredCard, item))
        return found
