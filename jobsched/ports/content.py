"""What the content use cases need from storage. The DynamoDB adapter is the production one."""

from collections.abc import Iterator
from typing import Protocol

from jobsched.models.content import ContentKind, StoredCard, StoredItem, StoredStory
from jobsched.ports.stores import Page


class StoredSketches(Protocol):
    """The one read near-duplicate checks need of stored content (a ContentStore has it)."""

    def sketches(self, kind: ContentKind) -> Iterator[tuple[str, list[int]]]:
        """(id, sketch) of every stored item of a kind."""
        ...


class ContentStore(Protocol):
    def put_story(self, story: StoredStory) -> bool:
        """Store a story unless one with its id is stored; True when this call wrote it.

        A second put of the same id is not an error and changes nothing: the first one wins.
        ValidationFailedError when the item is too large for the store.
        """
        ...

    def put_card(self, card: StoredCard) -> bool:
        """As put_story, for a research card."""
        ...

    def get_story(self, story_id: str) -> StoredStory: ...
    def get_card(self, card_id: str) -> StoredCard: ...
    def list_stories(
        self, limit: int, cursor: str | None, topic: str | None = None
    ) -> Page[StoredStory]:
        """Newest first (by created_at); `topic` keeps the stories of exactly that topic."""
        ...

    def list_cards(
        self, limit: int, cursor: str | None, topic: str | None = None
    ) -> Page[StoredCard]: ...
    def sketches(self, kind: ContentKind) -> Iterator[tuple[str, list[int]]]:
        """(id, sketch) of every stored item of a kind: what dedup compares against."""
        ...

    def by_source(self, source_id: str) -> list[StoredItem]:
        """The stories and cards indexed from one run or reservation, oldest first."""
        ...
