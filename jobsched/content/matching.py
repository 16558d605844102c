"""Which story templates suit a research card, and how well.

A template the card cannot satisfy (an empty required field, too few facts) is left out of the
matches; `unmet_requirements` says why. Every other template is a match, scored in [0, 1] by
how many of its keywords the card carries:

    weight of a keyword = 1 when one of the card's tags holds it,
                          0.5 when only its topic, title or summary does, else 0
    score = min(1, sum of weights / FULL_MATCH)

so three keywords among the tags (or six in the text) make a full match. Words are compared
after normalising (casefold, punctuation out) and reducing plurals (cities, robots).
"""

from dataclasses import dataclass, field
from typing import Any

from jobsched.content.similarity import normalise
from jobsched.content.story_templates import StoryTemplate
from jobsched.models.content import ResearchCard

FULL_MATCH = 3.0
TAG_WEIGHT = 1.0
TEXT_WEIGHT = 0.5


@dataclass(frozen=True)
class Match:
    template: StoryTemplate
    score: float
    reasons: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)  # of a story_generation job


def _stem(word: str) -> str:
    """A plural's singular, roughly: cities -> city, robots -> robot; glass stays."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _words(text: str) -> set[str]:
    return {_stem(word) for word in normalise(text).split()}


def _tag_words(tags: list[str]) -> set[str]:
    words = set()
    for tag in tags:
        words.add(_stem(tag))
        words.update(_stem(part) for part in tag.split("-") if part)
    return words


def unmet_requirements(card: ResearchCard, template: StoryTemplate) -> list[str]:
    """Why the card cannot become a story of this template; empty when it can."""
    unmet = [
        f"the card has no {name}"
        for name in template.required_card_fields
        if not getattr(card, name)
    ]
    if len(card.facts) < template.min_facts:
        unmet.append(f"needs at least {template.min_facts} facts; the card has {len(card.facts)}")
    return unmet


def story_params(card: ResearchCard, template: StoryTemplate) -> dict[str, Any]:
    return {"topic": card.title, "genre": template.genre, "card_id": card.card_id}


def score(card: ResearchCard, template: StoryTemplate) -> tuple[float, list[str]]:
    tags = _tag_words(card.tags)
    text = _words(" ".join([card.topic, card.title, card.summary]))
    total, reasons = 0.0, []
    for keyword in template.keywords:
        stem = _stem(keyword)
        if stem in tags:
            total += TAG_WEIGHT
            reasons.append(f"tag matches {keyword!r}")
        elif stem in text:
            total += TEXT_WEIGHT
            reasons.append(f"topic, title or summary mentions {keyword!r}")
    if not reasons:
        reasons.append("no keyword in common; the card meets the template's requirements")
    return round(min(1.0, total / FULL_MATCH), 3), reasons


def matching_templates(card: ResearchCard, templates: tuple[StoryTemplate, ...]) -> list[Match]:
    """The templates the card can become, best first (ties by template id)."""
    matches = []
    for template in templates:
        if unmet_requirements(card, template):
            continue
        value, reasons = score(card, template)
        matches.append(Match(template, value, reasons, story_params(card, template)))
    return sorted(matches, key=lambda match: (-match.score, match.template.template_id))
