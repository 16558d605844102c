"""Matching a research card to the built-in story templates."""

from typing import Any

from jobsched.content.matching import FULL_MATCH, matching_templates, score, unmet_requirements
from jobsched.content.story_templates import STORY_TEMPLATES, StoryTemplate
from jobsched.models.content import ResearchCard
from tests.support.content_samples import VOLCANO, card_data, card_from

BY_ID = {template.template_id: template for template in STORY_TEMPLATES}


def card(**fields: Any) -> ResearchCard:
    return ResearchCard.model_validate(card_data(**fields))


def test_the_built_in_templates() -> None:
    assert 5 <= len(STORY_TEMPLATES) <= 6
    assert len(BY_ID) == len(STORY_TEMPLATES)
    for template in STORY_TEMPLATES:
        assert template.keywords, template.template_id
        assert all(word == word.lower() and " " not in word for word in template.keywords)


def test_an_ocean_animal_card_is_a_fable_first() -> None:
    octopus = card(tags=["ocean", "animal", "biology"])

    matches = matching_templates(octopus, STORY_TEMPLATES)

    assert matches[0].template.template_id == "fable"
    assert matches[0].score == round(2 / FULL_MATCH, 3)  # two tags
    assert matches[0].reasons == ["tag matches 'animal'", "tag matches 'ocean'"]
    # one tag each: a tie, broken by template id
    assert [(m.template.template_id, m.score) for m in matches[1:3]] == [
        ("adventure", round(1 / FULL_MATCH, 3)),
        ("science-explainer", round(1 / FULL_MATCH, 3)),
    ]
    scores = [match.score for match in matches]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= value <= 1.0 for value in scores)


def test_params_are_those_of_a_story_generation_job() -> None:
    octopus = card()

    fable = next(
        m for m in matching_templates(octopus, STORY_TEMPLATES) if m.template.genre == "fable"
    )

    assert fable.params == {"topic": octopus.title, "genre": "fable", "card_id": octopus.card_id}


def test_a_tag_weighs_twice_a_word_of_the_text() -> None:
    template = StoryTemplate(
        template_id="t", name="T", description="", genre="g", keywords=("volcano", "ash", "lava")
    )
    tagged = card(tags=["volcano"], title="A mountain", summary="It smoked.", topic="mountains")
    mentioned = card(tags=[], title="A volcano", summary="It smoked.", topic="mountains")

    assert score(tagged, template) == (round(1 / FULL_MATCH, 3), ["tag matches 'volcano'"])
    value, reasons = score(mentioned, template)
    assert value == round(0.5 / FULL_MATCH, 3)
    assert reasons == ["topic, title or summary mentions 'volcano'"]


def test_three_tagged_keywords_are_a_full_match_and_the_score_stops_at_one() -> None:
    template = BY_ID["adventure"]
    explorer = card(tags=["expedition", "arctic", "survival", "sea", "journey"])

    assert score(explorer, template)[0] == 1.0


def test_plurals_and_hyphenated_tags_match() -> None:
    template = StoryTemplate(
        template_id="t", name="T", description="", genre="g", keywords=("robot", "city")
    )
    plural = card(tags=["smart-cities"], title="Robots at work", summary="s", topic="t")

    value, reasons = score(plural, template)

    assert value == round(1.5 / FULL_MATCH, 3)
    assert reasons == ["topic, title or summary mentions 'robot'", "tag matches 'city'"]


def test_no_keyword_in_common_is_a_zero_that_says_so() -> None:
    plain = card(tags=[], title="Bread", summary="Flour, water, salt and time.", topic="baking")

    matches = matching_templates(plain, STORY_TEMPLATES)

    assert matches
    assert {match.score for match in matches} == {0.0}
    assert [m.template.template_id for m in matches] == sorted(
        m.template.template_id for m in matches
    )
    assert all("no keyword in common" in match.reasons[0] for match in matches)


def test_a_card_failing_a_requirement_is_not_matched_to_it() -> None:
    no_sources = card(sources=[], tags=["inventor", "history", "biography"])
    one_fact = ResearchCard.model_validate(card_from([*VOLCANO[:2], VOLCANO[2]], "one-fact"))

    assert unmet_requirements(no_sources, BY_ID["biography"]) == ["the card has no sources"]
    assert "biography" not in {
        m.template.template_id for m in matching_templates(no_sources, STORY_TEMPLATES)
    }

    assert unmet_requirements(one_fact, BY_ID["science-explainer"]) == [
        "needs at least 3 facts; the card has 1"
    ]
    ids = {m.template.template_id for m in matching_templates(one_fact, STORY_TEMPLATES)}
    assert ids == {"fable", "futurist"}  # the templates that take one fact


def test_a_card_with_sources_and_facts_can_be_a_biography() -> None:
    person = card(tags=["inventor", "history"], title="Hedy Lamarr, inventor")

    matches = {m.template.template_id: m for m in matching_templates(person, STORY_TEMPLATES)}

    assert matches["biography"].score == round(2.0 / FULL_MATCH, 3)
