"""The built-in story templates: styles a research card can be turned into.

A story template is not a JobTemplate. It names a genre and what a card needs to carry for the
style to work (enough facts, sources for a biography); matching a card to it gives the params of
a `story_generation` job.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# Fields of a research card a template may require to be non-empty.
CardField = Literal["facts", "tags", "sources"]


class StoryTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    template_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(max_length=2000)
    genre: str = Field(min_length=1, max_length=100, description="the story's `genre` param")
    keywords: tuple[str, ...] = Field(description="lowercase words that suit the style")
    required_card_fields: tuple[CardField, ...] = Field(
        default=(), description="card fields that must not be empty"
    )
    min_facts: int = Field(default=1, ge=1, le=20)


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


STORY_TEMPLATES: tuple[StoryTemplate, ...] = (
    StoryTemplate(
        template_id="science-explainer",
        name="Science explainer",
        description="A curious narrator walks through how something works, one fact at a time.",
        genre="science explainer",
        keywords=words(
            "science physics biology chemistry astronomy space"
            " experiment discovery energy climate research cell"
        ),
        required_card_fields=("facts",),
        min_facts=3,
    ),
    StoryTemplate(
        template_id="mystery",
        name="Mystery",
        description="A puzzle to solve: the card's facts become the clues.",
        genre="mystery",
        keywords=words(
            "mystery unsolved crime detective secret puzzle"
            " disappearance clue ancient lost hidden code"
        ),
        required_card_fields=("facts",),
        min_facts=2,
    ),
    StoryTemplate(
        template_id="fable",
        name="Fable",
        description="A short tale with animals as characters and a moral at the end.",
        genre="fable",
        keywords=words(
            "animal wildlife nature forest bird insect ocean fox moral lesson plant tree"
        ),
        min_facts=1,
    ),
    StoryTemplate(
        template_id="adventure",
        name="Adventure",
        description="An expedition into the places the card describes, with danger on the way.",
        genre="adventure",
        keywords=words(
            "exploration expedition journey travel mountain ocean"
            " sea arctic desert jungle survival volcano"
        ),
        required_card_fields=("facts",),
        min_facts=2,
    ),
    StoryTemplate(
        template_id="biography",
        name="Biography-style portrait",
        description="A life told through its turning points; needs sources to stay honest.",
        genre="biography",
        keywords=words(
            "biography life inventor scientist artist leader"
            " pioneer explorer writer history born people"
        ),
        required_card_fields=("facts", "sources"),
        min_facts=3,
    ),
    StoryTemplate(
        template_id="futurist",
        name="Futurist vignette",
        description="A scene set a few decades ahead, where the card's subject has changed life.",
        genre="science fiction",
        keywords=words(
            "future technology ai robot computing innovation"
            " city energy space automation internet genetics"
        ),
        min_facts=1,
    ),
)
