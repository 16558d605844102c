"""The content store on moto: conditional puts, reads by kind, newest-first pages, by_source
and sketches."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jobsched.content.similarity import sketch
from jobsched.errors import NotFoundError, ValidationFailedError
from jobsched.models.content import ContentKind, SourceKind, StoredCard, StoredStory
from jobsched.ports import Stores
from jobsched.ports.content import ContentStore
from tests.support.content_samples import card_data, story_data

START = datetime(2026, 11, 28, 10, tzinfo=UTC)


@pytest.fixture
def store(stores: Stores) -> ContentStore:
    return stores.content


def stored_story(
    seed: str, source_id: str = "run_1", minutes: int = 0, **fields: Any
) -> StoredStory:
    data = story_data(seed, created_at=(START + timedelta(minutes=minutes)).isoformat(), **fields)
    return StoredStory.model_validate(
        {
            **data,
            "source_kind": SourceKind.RUN,
            "source_id": source_id,
            "job_id": "job_1",
            "sketch": sketch(data["title"] + "\n" + data["text"]),
        }
    )


def stored_card(seed: str, source_id: str = "run_1", minutes: int = 0, **fields: Any) -> StoredCard:
    data = card_data(seed, created_at=(START + timedelta(minutes=minutes)).isoformat(), **fields)
    return StoredCard.model_validate(
        {
            **data,
            "source_kind": SourceKind.RESERVATION,
            "source_id": source_id,
            "sketch": [1, 2**64 - 1],
        }
    )


def test_a_story_round_trips(store: ContentStore) -> None:
    story = stored_story("a")

    assert store.put_story(story) is True

    assert store.get_story(story.story_id) == story


def test_a_card_round_trips_with_a_64_bit_sketch(store: ContentStore) -> None:
    card = stored_card("a", tags=[], sources=[])

    assert store.put_card(card) is True

    assert store.get_card(card.card_id) == card
    assert store.get_card(card.card_id).sketch == [1, 2**64 - 1]


def test_a_second_put_of_an_id_changes_nothing(store: ContentStore) -> None:
    first = stored_story("a", source_id="run_1")
    again = stored_story("a", source_id="run_2", title="Another title")

    assert store.put_story(first) is True
    assert store.put_story(again) is False

    assert store.get_story(first.story_id) == first
    assert [item.story_id for item in store.list_stories(10, None).items] == [first.story_id]
    assert store.by_source("run_2") == []


def test_unknown_ids_and_the_other_kind_are_not_found(store: ContentStore) -> None:
    card = stored_card("a")
    story = stored_story("a")
    store.put_card(card)
    store.put_story(story)

    with pytest.raises(NotFoundError, match="no story"):
        store.get_story(card.card_id)
    with pytest.raises(NotFoundError, match="no card"):
        store.get_card(story.story_id)
    with pytest.raises(NotFoundError):
        store.get_story("sty_0000000000000000")


def test_lists_are_newest_first_and_follow_the_cursor(store: ContentStore) -> None:
    for minute in (3, 0, 4, 1, 2):
        store.put_story(stored_story(f"s{minute}", minutes=minute))
    store.put_card(stored_card("c"))  # another kind: never in the story list

    seen, cursor, pages = [], None, 0
    while True:
        page = store.list_stories(2, cursor)
        seen += [story.story_id for story in page.items]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == [stored_story(f"s{minute}").story_id for minute in (4, 3, 2, 1, 0)]
    assert pages == 3
    assert [card.card_id for card in store.list_cards(10, None).items] == [stored_card("c").card_id]


def test_items_created_at_the_same_time_are_each_listed_once(store: ContentStore) -> None:
    ids = set()
    for n in range(5):
        card = stored_card(f"c{n}")
        store.put_card(card)
        ids.add(card.card_id)

    first = store.list_cards(3, None)
    second = store.list_cards(3, first.next_cursor)

    assert len(first.items) == 3
    assert {c.card_id for c in first.items + second.items} == ids
    assert second.next_cursor is None


def test_a_topic_keeps_only_its_items(store: ContentStore) -> None:
    for n in range(4):
        store.put_card(stored_card(f"c{n}", minutes=n, topic="octopuses" if n % 2 else "squid"))

    page = store.list_cards(1, None, topic="octopuses")
    rest = store.list_cards(5, page.next_cursor, topic="octopuses")

    assert [c.card_id for c in page.items + rest.items] == [
        stored_card("c3").card_id,
        stored_card("c1").card_id,
    ]
    assert store.list_cards(5, None, topic="nothing").items == []


def test_a_foreign_cursor_is_a_validation_error(store: ContentStore) -> None:
    with pytest.raises(ValidationFailedError, match="cursor"):
        store.list_stories(5, "not-a-cursor")


def test_by_source_finds_both_kinds_of_one_source(store: ContentStore) -> None:
    store.put_story(stored_story("s1", source_id="run_1"))
    store.put_card(stored_card("c1", source_id="run_1"))
    store.put_story(stored_story("s2", source_id="run_2"))

    found = store.by_source("run_1")

    assert sorted(type(item).__name__ for item in found) == ["StoredCard", "StoredStory"]
    assert {item.source_id for item in found} == {"run_1"}
    assert store.by_source("run_404") == []


def test_sketches_are_those_of_one_kind(store: ContentStore) -> None:
    story = stored_story("s")
    store.put_story(story)
    store.put_card(stored_card("c"))

    assert list(store.sketches(ContentKind.STORY)) == [(story.story_id, story.sketch)]
    assert list(store.sketches(ContentKind.CARD)) == [(stored_card("c").card_id, [1, 2**64 - 1])]


def test_sketches_read_every_page(store: ContentStore) -> None:
    # Items near DynamoDB's 1 MB page: ten 100 KB stories take two pages.
    for n in range(12):
        store.put_story(stored_story(f"big{n}", text=f"Title\n{n} " + "x" * 99_000))

    assert len(list(store.sketches(ContentKind.STORY))) == 12
