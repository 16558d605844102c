"""The research card contract: validate_card, the published JSON Schemas agreeing with it, and
the copies in docs/schemas/ matching the models."""

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from jobsched.content.schemas import (
    DIALECT,
    SCHEMA_FILES,
    card_schema,
    json_schema,
    story_schema,
    story_template_schema,
    validate_card,
)
from jobsched.content.story_templates import STORY_TEMPLATES
from jobsched.models.content import ResearchCard, Story
from tests.support.content_samples import card_data, story_data

DOCS = Path(__file__).resolve().parents[2] / "docs" / "schemas"

# (case, changes to a valid card, the failing field)
BAD_CARDS: list[tuple[str, dict[str, Any], str]] = [
    ("empty title", {"title": ""}, "title"),
    ("long title", {"title": "x" * 201}, "title"),
    ("long summary", {"summary": "x" * 5_001}, "summary"),
    ("no facts", {"facts": []}, "facts"),
    ("21 facts", {"facts": ["f"] * 21}, "facts"),
    ("empty fact", {"facts": ["ok", ""]}, "facts.1"),
    ("long fact", {"facts": ["x" * 1_001]}, "facts.0"),
    ("upper-case tag", {"tags": ["Ocean"]}, "tags.0"),
    ("tag with a blank", {"tags": ["deep sea"]}, "tags.0"),
    ("tag starting with a dash", {"tags": ["ok", "-sea"]}, "tags.1"),
    ("long tag", {"tags": ["x" * 41]}, "tags.0"),
    ("21 tags", {"tags": [f"t{n}" for n in range(21)]}, "tags"),
    ("ftp source", {"sources": [{"title": "t", "url": "ftp://example.org/x"}]}, "sources.0.url"),
    ("source without a host", {"sources": [{"title": "t", "url": "https://"}]}, "sources.0.url"),
    ("source without title", {"sources": [{"url": "https://example.org"}]}, "sources.0.title"),
    ("21 sources", {"sources": [{"title": "t", "url": "https://e.org"}] * 21}, "sources"),
    ("long topic", {"topic": "x" * 501}, "topic"),
    ("bad card id", {"card_id": "crd_XYZ"}, "card_id"),
    ("story id as card id", {"card_id": "sty_0123456789abcdef"}, "card_id"),
    ("unknown key", {"colour": "red"}, "colour"),
    ("number as title", {"title": 7}, "title"),
    ("epoch as created_at", {"created_at": 1_700_000_000}, "created_at"),
    ("no time zone", {"created_at": "2026-11-28T10:00:00"}, "created_at"),
]


def without(data: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != key}


def test_a_valid_card_has_no_problems() -> None:
    assert validate_card(card_data()) == []
    assert validate_card(card_data(tags=[], sources=[])) == []
    assert validate_card(without(without(card_data(), "tags"), "sources")) == []
    assert validate_card(card_data(facts=["x" * 1_000] * 20, title="x" * 200)) == []


@pytest.mark.parametrize(("case", "changes", "field"), BAD_CARDS, ids=[c[0] for c in BAD_CARDS])
def test_each_limit_is_one_problem_on_its_field(
    case: str, changes: dict[str, Any], field: str
) -> None:
    problems = validate_card(card_data(**changes))

    assert [problem.field for problem in problems] == [field], case
    assert problems[0].message


def test_every_missing_field_is_named() -> None:
    problems = validate_card({"card_id": "crd_0123456789abcdef"})

    assert {problem.field for problem in problems} == {
        "topic",
        "title",
        "summary",
        "facts",
        "model",
        "provider",
        "created_at",
    }


@pytest.mark.parametrize("value", [[], "card", 3, None])
def test_a_card_is_an_object(value: object) -> None:
    problems = validate_card(value)

    assert len(problems) == 1
    assert "JSON object" in problems[0].message


@pytest.mark.parametrize(("case", "changes", "field"), BAD_CARDS, ids=[c[0] for c in BAD_CARDS])
def test_the_json_schema_rejects_what_validate_card_rejects(
    case: str, changes: dict[str, Any], field: str
) -> None:
    validator = Draft202012Validator(
        card_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )

    assert not validator.is_valid(card_data(**changes)), case
    assert validator.is_valid(card_data())


def test_the_schemas_are_draft_2020_12() -> None:
    for schema in (card_schema(), story_schema(), story_template_schema()):
        assert schema["$schema"] == DIALECT
        Draft202012Validator.check_schema(schema)
    for template in STORY_TEMPLATES:
        Draft202012Validator(story_template_schema()).validate(template.model_dump(mode="json"))


def test_the_story_schema_and_model_agree() -> None:
    validator = Draft202012Validator(
        story_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    good = story_data()
    Story.model_validate(good)
    assert validator.is_valid(good)
    assert validator.is_valid(story_data(topic=None, genre=None, card_id="crd_0123456789abcdef"))
    for bad in (
        {**story_data(), "text": ""},
        {**story_data(), "text": "x" * 100_001},
        story_data(story_id="sty_0123"),
        story_data(card_id="nope"),
        story_data(extra=1),
        without(story_data(), "model"),
    ):
        assert not validator.is_valid(bad)
        with pytest.raises(ValueError, match="validation error"):
            Story.model_validate(bad)


@pytest.mark.parametrize("name", sorted(SCHEMA_FILES))
def test_the_published_copies_match_the_models(name: str) -> None:
    published = json.loads((DOCS / name).read_text())

    assert published == json_schema(SCHEMA_FILES[name]), (
        "regenerate them: python -m jobsched.content.schemas docs/schemas"
    )


def test_a_card_round_trips_through_json() -> None:
    card = ResearchCard.model_validate(card_data())

    assert ResearchCard.model_validate_json(card.model_dump_json()) == card
    assert json.loads(card.model_dump_json())["created_at"] == "2026-11-28T10:00:00Z"
