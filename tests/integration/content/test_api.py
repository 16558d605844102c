"""The direct /story and /research reads over HTTP, unprefixed and under /api/v1: lists, reads,
card validation, dedup, template matching and the story templates; keys, 404s and 422s."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from jobsched.content.similarity import sketch
from jobsched.models.content import SourceKind, StoredCard, StoredStory
from jobsched.ports import Stores
from tests.support.api import all_pages, assert_problem
from tests.support.content_samples import (
    LIGHTHOUSE_AUTOMATED,
    OCTOPUS,
    OCTOPUS_HUNTING,
    VOLCANO,
    card_data,
    card_from,
    story_data,
)

PREFIXES = ["", "/api/v1"]
STORY_KEYS = {
    *story_data().keys(),
    "source_kind",
    "source_id",
    "job_id",
    "indexed_at",
}
CARD_KEYS = {*card_data().keys(), "source_kind", "source_id", "job_id", "indexed_at"}
ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/story/list", None),
    ("GET", "/story/templates", None),
    ("GET", "/story/sty_0123456789abcdef", None),
    ("POST", "/research/validate", card_data()),
    ("GET", "/research/list", None),
    ("POST", "/research/dedup", {"cards": [card_data()]}),
    ("POST", "/research/matching-templates", {"card": card_data()}),
]


@pytest.fixture(params=PREFIXES, ids=["unprefixed", "v1"])
def prefix(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


def ok(response: Response) -> Any:
    assert response.status_code == 200, response.text
    assert "deprecation" not in response.headers
    return response.json()


def put_story(stores: Stores, data: dict[str, Any], source_id: str = "run_1") -> None:
    stores.content.put_story(
        StoredStory.model_validate(
            {
                **data,
                "source_kind": SourceKind.RUN,
                "source_id": source_id,
                "job_id": "job_1",
                "sketch": sketch(f"{data['title']}\n{data['text']}"),
            }
        )
    )


def put_card(stores: Stores, data: dict[str, Any], source_id: str = "res_1") -> None:
    text = "\n".join([data["title"], data["summary"], *data["facts"]])
    stores.content.put_card(
        StoredCard.model_validate(
            {
                **data,
                "source_kind": SourceKind.RESERVATION,
                "source_id": source_id,
                "sketch": sketch(text),
            }
        )
    )


# --- keys -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[r[1] for r in ROUTES])
def test_every_route_needs_a_key(
    client: TestClient, prefix: str, method: str, path: str, body: Any
) -> None:
    anonymous = TestClient(client.app, raise_server_exceptions=False)

    response = anonymous.request(method, f"{prefix}{path}", json=body)

    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[r[1] for r in ROUTES])
def test_a_read_key_is_enough(
    reader: TestClient, stores: Stores, method: str, path: str, body: Any
) -> None:
    put_story(stores, story_data(story_id="sty_0123456789abcdef"))

    ok(reader.request(method, path, json=body))


# --- stories ----------------------------------------------------------------------------------


def test_story_list_is_newest_first_without_sketches(
    reader: TestClient, stores: Stores, prefix: str
) -> None:
    old = story_data("old", created_at="2026-11-01T08:00:00Z")
    new = story_data("new", created_at="2026-11-28T10:00:00+00:00", topic=None, genre=None)
    put_story(stores, old)
    put_story(stores, new)

    page = ok(reader.get(f"{prefix}/story/list"))

    assert [story["story_id"] for story in page["items"]] == [new["story_id"], old["story_id"]]
    assert page["next_cursor"] is None
    assert set(page["items"][0]) == STORY_KEYS
    assert page["items"][0]["topic"] is None
    assert page["items"][1]["created_at"] == "2026-11-01T08:00:00.000000Z"  # the one form
    assert page["items"][1]["source_kind"] == "run"


def test_story_list_pages_and_filters(reader: TestClient, stores: Stores) -> None:
    for n in range(5):
        put_story(
            stores,
            story_data(
                f"s{n}", topic="sea" if n % 2 else "land", created_at=f"2026-11-0{n + 1}T00:00:00Z"
            ),
        )

    pages = all_pages(reader, "/story/list", limit=2)
    sea = ok(reader.get("/api/v1/story/list", params={"topic": "sea"}))

    assert [len(page) for page in pages] == [2, 2, 1]
    assert [s["story_id"] for page in pages for s in page] == [
        story_data(f"s{n}")["story_id"] for n in (4, 3, 2, 1, 0)
    ]
    assert [s["story_id"] for s in sea["items"]] == [
        story_data(f"s{n}")["story_id"] for n in (3, 1)
    ]


def test_list_parameters_are_checked(reader: TestClient, prefix: str) -> None:
    for path in ("/story/list", "/research/list"):
        assert_problem(reader.get(f"{prefix}{path}", params={"limit": 0}), 422, "query.limit")
        assert_problem(reader.get(f"{prefix}{path}", params={"limit": 201}), 422, "query.limit")
        assert_problem(reader.get(f"{prefix}{path}", params={"cursor": "garbage!"}), 422, "cursor")
        assert_problem(reader.get(f"{prefix}{path}", params={"topic": ""}), 422, "query.topic")


def test_get_a_story(reader: TestClient, stores: Stores, prefix: str) -> None:
    story = story_data("s", card_id=card_data()["card_id"])
    put_story(stores, story)

    body = ok(reader.get(f"{prefix}/story/{story['story_id']}"))

    assert set(body) == STORY_KEYS
    shown = {**story, "created_at": story["created_at"].replace("Z", ".000000Z")}
    assert {key: body[key] for key in story} == shown
    assert (body["source_id"], body["job_id"]) == ("run_1", "job_1")


def test_an_unknown_story_is_404(reader: TestClient, stores: Stores, prefix: str) -> None:
    card = card_data()
    put_card(stores, card)

    assert_problem(reader.get(f"{prefix}/story/sty_0123456789abcdef"), 404)
    assert_problem(reader.get(f"{prefix}/story/{card['card_id']}"), 404)  # a card is not a story
    assert_problem(reader.get(f"{prefix}/story/{'x' * 129}"), 422)


def test_story_templates(reader: TestClient, prefix: str) -> None:
    page = ok(reader.get(f"{prefix}/story/templates"))

    ids = [template["template_id"] for template in page["items"]]
    assert "fable" in ids
    assert len(ids) == 6
    assert set(page["items"][0]) == {
        "template_id",
        "name",
        "description",
        "genre",
        "keywords",
        "required_card_fields",
        "min_facts",
    }


# --- research cards ---------------------------------------------------------------------------


def test_research_list(reader: TestClient, stores: Stores, prefix: str) -> None:
    card = card_data()
    put_card(stores, card)
    put_story(stores, story_data())

    page = ok(reader.get(f"{prefix}/research/list"))

    assert [item["card_id"] for item in page["items"]] == [card["card_id"]]
    assert set(page["items"][0]) == CARD_KEYS
    assert page["items"][0]["source_kind"] == "reservation"
    assert page["items"][0]["sources"] == card["sources"]


def test_a_card_as_the_list_returns_it_is_accepted_back_everywhere(
    reader: TestClient, stores: Stores, prefix: str
) -> None:
    """What the API returns, it accepts back: the list's provenance fields are ignored."""
    card = card_data()
    put_card(stores, card)
    [listed] = ok(reader.get(f"{prefix}/research/list"))["items"]
    assert listed["source_kind"] == "reservation"  # provenance is there

    assert ok(reader.post(f"{prefix}/research/validate", json=listed)) == {
        "valid": True,
        "errors": [],
    }
    deduped = ok(reader.post(f"{prefix}/research/dedup", json={"cards": [listed]}))
    assert deduped["unique"] == [{"index": 0, "card_id": card["card_id"]}]  # itself, not a dup
    matched = ok(reader.post(f"{prefix}/research/matching-templates", json={"card": listed}))
    assert matched["matches"] or matched["excluded"]
    wrong = {**listed, "source_kind": "spaceship"}  # still checked for type
    assert_problem(reader.post(f"{prefix}/research/dedup", json={"cards": [wrong]}), 422)
    unknown = {**listed, "colour": "red"}  # and anything else is still refused
    assert ok(reader.post(f"{prefix}/research/validate", json=unknown))["valid"] is False


def test_validate_a_good_card(reader: TestClient, prefix: str) -> None:
    assert ok(reader.post(f"{prefix}/research/validate", json=card_data())) == {
        "valid": True,
        "errors": [],
    }


def test_validate_a_bad_card_answers_200_with_its_problems(reader: TestClient, prefix: str) -> None:
    bad = card_data(facts=[], tags=["Ocean"], colour="red")
    del bad["title"]

    body = ok(reader.post(f"{prefix}/research/validate", json=bad))

    assert body["valid"] is False
    assert sorted(error["field"] for error in body["errors"]) == [
        "colour",
        "facts",
        "tags.0",
        "title",
    ]
    assert all(error["message"] for error in body["errors"])


def test_validate_needs_a_json_object(reader: TestClient, prefix: str) -> None:
    assert_problem(reader.post(f"{prefix}/research/validate", json=[card_data()]), 422, "body")
    assert_problem(reader.post(f"{prefix}/research/validate", json="card"), 422, "body")
    not_json = reader.post(
        f"{prefix}/research/validate",
        content=b"{nope",
        headers={"content-type": "application/json"},
    )
    assert_problem(not_json, 422)


# --- dedup ------------------------------------------------------------------------------------


def test_dedup_within_the_given_cards(reader: TestClient, prefix: str) -> None:
    first = card_data("a")
    near = card_data("b", title="Eight arms and three hearts")
    other = card_from(VOLCANO, "c")

    body = ok(
        reader.post(
            f"{prefix}/research/dedup",
            json={"cards": [first, near, other], "against_stored": False},
        )
    )

    assert body["threshold"] == 0.5
    assert body["unique"] == [
        {"index": 0, "card_id": first["card_id"]},
        {"index": 2, "card_id": other["card_id"]},
    ]
    [duplicate] = body["duplicates"]
    assert {k: v for k, v in duplicate.items() if k != "similarity"} == {
        "index": 1,
        "card_id": near["card_id"],
        "duplicate_of": first["card_id"],
        "duplicate_of_index": 0,
    }
    assert 0.8 < duplicate["similarity"] < 1


def test_dedup_against_the_stored_cards(reader: TestClient, stores: Stores) -> None:
    stored = card_data("stored")
    put_card(stores, stored)
    near = card_data("near", summary=OCTOPUS[1].replace("puzzles", "riddles"))
    same_id = card_data("stored", title="The stored card, edited")
    hunting = card_from(OCTOPUS_HUNTING, "hunting")

    body = ok(reader.post("/research/dedup", json={"cards": [near, same_id, hunting]}))

    assert [d["duplicate_of"] for d in body["duplicates"]] == [stored["card_id"]]
    assert body["duplicates"][0]["index"] == 0
    assert body["duplicates"][0]["duplicate_of_index"] is None
    # a card is never its own duplicate
    assert [u["index"] for u in body["unique"]] == [1, 2]
    alone = ok(reader.post("/research/dedup", json={"cards": [near], "against_stored": False}))
    assert alone["duplicates"] == []


def test_dedup_takes_a_threshold(reader: TestClient) -> None:
    a = card_from(OCTOPUS, "a")
    b = card_from([*OCTOPUS_HUNTING[:2], OCTOPUS[2], OCTOPUS[3], OCTOPUS_HUNTING[2]], "b")  # ~0.2

    loose = ok(reader.post("/research/dedup", json={"cards": [a, b], "threshold": 0.1}))
    strict = ok(reader.post("/research/dedup", json={"cards": [a, b], "threshold": 1}))

    assert [d["index"] for d in loose["duplicates"]] == [1]
    assert strict["duplicates"] == []
    assert strict["threshold"] == 1


def test_the_default_threshold_is_the_apps(client: TestClient) -> None:
    client.app.state.dedup_threshold = 0.05  # type: ignore[attr-defined]
    a, b = card_from(OCTOPUS, "a"), card_from([*OCTOPUS_HUNTING[:2], OCTOPUS[2]], "b")

    body = ok(client.post("/research/dedup", json={"cards": [a, b]}))

    assert body["threshold"] == 0.05
    assert len(body["duplicates"]) == 1


def test_dedup_errors(reader: TestClient, prefix: str) -> None:
    path = f"{prefix}/research/dedup"
    assert_problem(reader.post(path, json={"cards": []}), 422, "cards")
    assert_problem(reader.post(path, json={"cards": [card_data()] * 101}), 422, "cards")
    assert_problem(reader.post(path, json={}), 422, "cards")
    assert_problem(reader.post(path, json={"cards": [card_data(title="")]}), 422, "cards.0.title")
    assert_problem(
        reader.post(path, json={"cards": [card_data()], "threshold": 0}), 422, "threshold"
    )
    assert_problem(
        reader.post(path, json={"cards": [card_data()], "threshold": 1.5}), 422, "threshold"
    )
    assert_problem(reader.post(path, json={"cards": [card_data()], "extra": 1}), 422, "extra")


# --- matching ---------------------------------------------------------------------------------


def test_matching_a_card_given_inline(reader: TestClient, prefix: str) -> None:
    card = card_data(tags=["ocean", "animal"], sources=[])

    body = ok(reader.post(f"{prefix}/research/matching-templates", json={"card": card}))

    assert body["card_id"] == card["card_id"]
    best = body["matches"][0]
    assert best["template_id"] == "fable"
    assert best["params"] == {"topic": card["title"], "genre": "fable", "card_id": card["card_id"]}
    assert best["reasons"]
    scores = [match["score"] for match in body["matches"]]
    assert scores == sorted(scores, reverse=True)
    assert body["excluded"] == [
        {"template_id": "biography", "reasons": ["the card has no sources"]}
    ]


def test_matching_a_stored_card(reader: TestClient, stores: Stores) -> None:
    card = card_data()
    put_card(stores, card)

    body = ok(reader.post("/research/matching-templates", json={"card_id": card["card_id"]}))

    assert body["card_id"] == card["card_id"]
    assert {match["template_id"] for match in body["matches"]} >= {"fable", "biography"}


def test_matching_errors(reader: TestClient, prefix: str) -> None:
    path = f"{prefix}/research/matching-templates"
    card = card_data()
    assert_problem(reader.post(path, json={"card_id": "crd_0123456789abcdef"}), 404)
    assert_problem(reader.post(path, json={}), 422, "card")
    assert_problem(
        reader.post(path, json={"card": card, "card_id": card["card_id"]}), 422, "card_id"
    )
    assert_problem(reader.post(path, json={"card_id": "nope"}), 422, "card_id")
    assert_problem(reader.post(path, json={"card": {**card, "facts": []}}), 422, "card.facts")
    assert_problem(reader.post(path, json=[card]), 422)


def test_the_routes_are_in_the_openapi_document(reader: TestClient) -> None:
    document = ok(reader.get("/openapi.json"))
    paths = document["paths"]

    for _, path, _ in ROUTES:
        documented = path.replace("sty_0123456789abcdef", "{story_id}")
        assert documented in paths
        assert f"/api/v1{documented}" in paths
    schemas = document["components"]["schemas"]
    assert "source_id" in schemas["StoryOut"]["properties"]
    assert "sketch" not in schemas["StoryOut"]["properties"]
    assert "sketch" not in schemas["CardOut"]["properties"]


def test_the_story_text_is_served_whole(reader: TestClient, stores: Stores) -> None:
    long_story = story_data("long", text="Title\n" + LIGHTHOUSE_AUTOMATED * 100)
    put_story(stores, long_story)

    assert ok(reader.get(f"/story/{long_story['story_id']}"))["text"] == long_story["text"]
