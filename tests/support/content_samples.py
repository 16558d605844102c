"""Stories and research cards for the content tests: builders of valid files, and a small
corpus of near and far pairs that the dedup threshold must tell apart."""

import hashlib
from typing import Any

CREATED_AT = "2026-11-28T10:00:00Z"


def hex_id(prefix: str, seed: str) -> str:
    return f"{prefix}_{hashlib.sha256(seed.encode()).hexdigest()[:16]}"


def card_data(seed: str = "octopus", **fields: Any) -> dict[str, Any]:
    """A valid research card file's JSON (the octopus card unless fields say otherwise)."""
    title, summary, *facts = OCTOPUS
    card = {
        "card_id": hex_id("crd", seed),
        "topic": "octopuses",
        "title": title,
        "summary": summary,
        "facts": facts,
        "tags": ["ocean", "animal", "biology"],
        "sources": [{"title": "Octopus", "url": "https://en.wikipedia.org/wiki/Octopus"}],
        "model": "gemini/gemini-2.0-flash-exp",
        "provider": "offline",
        "created_at": CREATED_AT,
    }
    return {**card, **fields}


def card_from(parts: list[str], seed: str, **fields: Any) -> dict[str, Any]:
    """A card whose title, summary and facts are `parts` in that order."""
    title, summary, *facts = parts
    return card_data(seed, title=title, summary=summary, facts=facts, **fields)


def story_data(seed: str = "lighthouse", text: str | None = None, **fields: Any) -> dict[str, Any]:
    title, body = (text or LIGHTHOUSE).split("\n", 1)
    story = {
        "story_id": hex_id("sty", seed),
        "title": title,
        "text": body,
        "topic": "lighthouses",
        "genre": "drama",
        "card_id": None,
        "model": "gemini/gemini-2.0-flash-exp",
        "provider": "offline",
        "created_at": CREATED_AT,
    }
    return {**story, **fields}


# --- the corpus -------------------------------------------------------------------------------
# Cards are [title, summary, *facts]; stories are "title\ntext".

OCTOPUS = [
    "Octopuses: eight arms, three hearts",
    "Octopuses are soft-bodied molluscs found in every ocean. They solve puzzles, use tools and "
    "change colour in a fraction of a second to hide from predators.",
    "An octopus has three hearts and blue, copper-based blood.",
    "Two thirds of an octopus's neurons sit in its arms, not in its head.",
    "Most octopuses live only one to two years.",
]
OCTOPUS_HUNTING = [
    "How octopuses hunt",
    "Octopuses hunt mostly at night, feeling into crevices with their arms for crabs, clams and "
    "small fish, and drill through shells with a toothed tongue.",
    "The giant Pacific octopus can weigh more than fifty kilograms.",
    "Octopus saliva contains a venom that paralyses prey.",
    "Some octopuses carry coconut shells to build shelters on open sand.",
]
VOLCANO = [
    "Why volcanoes erupt",
    "Volcanoes erupt when magma, lighter than the rock around it, rises and the gas dissolved "
    "in it expands as pressure falls, tearing the melt into ash and foam.",
    "About 1,350 volcanoes on land may erupt again.",
    "Most of them lie along the Pacific Ring of Fire.",
    "The 1815 eruption of Tambora cooled the planet and caused a year without a summer.",
]
BEES = (
    "Honeybees dance to tell the hive where flowers are. The angle of the dance points the way "
    "and its length tells the distance."
)
LIGHTHOUSE = (
    "The last keeper\n"
    "Mara had kept the light on Gull Rock for thirty winters. Every evening she climbed the "
    "ninety-one steps, wiped the salt from the great lens and lit the lamp before the sun "
    "touched the water. The ships had long stopped needing her; their screens knew every reef. "
    "Still she climbed. One night in November the power failed across the whole coast, and "
    "the screens went dark. Out in the storm a fishing boat turned in circles, blind. Mara "
    "heard the engine before she saw the hull. She wound the old clockwork by hand, her "
    "shoulders burning, and the beam swept out over the waves as it had for a hundred years. "
    "The boat found the channel. In the morning the skipper rowed over with a basket of fish "
    "and did not know how to say thank you, so he carried the basket up all ninety-one steps."
)
LIGHTHOUSE_AUTOMATED = (
    "Keeper of the light\n"
    "The lighthouse on the point was automated in the spring, and Tomas was told to pack. He "
    "spent his last week teaching the new machine what he knew: which fogs rolled in from the "
    "south, which gulls nested on the gallery, which of the village boys would row out to "
    "fish when the forecast said not to. The engineers laughed and wrote none of it down. "
    "On his final night he sat on the rocks below and watched the lamp turn without him. It "
    "kept perfect time. He found that he did not mind. In the village, at the inn, someone "
    "asked him what he would do now, and he said he thought he would learn to sleep at night."
)
VOLCANO_STORY = (
    "The mountain that breathed\n"
    "Everyone in the valley knew the mountain was asleep, the way you know your grandmother "
    "is asleep in her chair: breathing slowly, not to be disturbed. Ana was nine when the "
    "mountain began to breathe faster. The well water turned warm and tasted of eggs; the "
    "goats refused the upper pasture. Her father said it was nothing. Her teacher wrote to "
    "the university in the city, and two women came with instruments that ticked. They "
    "stayed a week, and on the last day they asked everyone to leave."
)


def _card_text(parts: list[str]) -> str:
    return "\n".join(parts)


def _swap_sentences(text: str, first: int) -> str:
    sentences = text.split(". ")
    sentences[first], sentences[first + 1] = sentences[first + 1], sentences[first]
    return ". ".join(sentences)


_OCTOPUS = _card_text(OCTOPUS)
_RIDDLES = OCTOPUS[1].replace("puzzles", "riddles")

# (name, text a, text b): near duplicates, which dedup must catch.
NEAR_PAIRS: list[tuple[str, str, str]] = [
    ("card, one word changed", _OCTOPUS, _OCTOPUS.replace("puzzles", "riddles")),
    (
        "card, two words changed",
        _OCTOPUS,
        _OCTOPUS.replace("puzzles", "riddles").replace("predators", "enemies"),
    ),
    ("card, facts reordered", _OCTOPUS, _card_text([*OCTOPUS[:2], *OCTOPUS[3:], OCTOPUS[2]])),
    ("card, new title", _OCTOPUS, _card_text(["Eight arms and three hearts", *OCTOPUS[1:]])),
    ("card, a fact dropped", _OCTOPUS, _card_text(OCTOPUS[:-1])),
    (
        "card, two words changed and facts reordered",
        _OCTOPUS,
        _card_text(
            [OCTOPUS[0], _RIDDLES, OCTOPUS[3], OCTOPUS[2].replace("blue", "bluish"), OCTOPUS[4]]
        ),
    ),
    (
        "short text, two words changed",
        BEES,
        BEES.replace("flowers", "nectar").replace("length", "duration"),
    ),
    ("story, one word changed", LIGHTHOUSE, LIGHTHOUSE.replace("winters", "years")),
    (
        "story, two words changed",
        LIGHTHOUSE,
        LIGHTHOUSE.replace("winters", "years").replace("storm", "gale"),
    ),
    ("story, two sentences swapped", LIGHTHOUSE, _swap_sentences(LIGHTHOUSE, 3)),
]

# (name, text a, text b): different items, which dedup must keep.
FAR_PAIRS: list[tuple[str, str, str]] = [
    ("cards, same topic, other content", _OCTOPUS, _card_text(OCTOPUS_HUNTING)),
    (
        "cards, same topic, two facts shared",
        _OCTOPUS,
        _card_text([*OCTOPUS_HUNTING[:2], OCTOPUS[2], OCTOPUS[3], OCTOPUS_HUNTING[2]]),
    ),
    ("cards, other topic", _OCTOPUS, _card_text(VOLCANO)),
    ("stories, same topic, other content", LIGHTHOUSE, LIGHTHOUSE_AUTOMATED),
    (
        "stories, same opening, other story",
        LIGHTHOUSE,
        ". ".join(LIGHTHOUSE.split(". ")[:3]) + ". " + LIGHTHOUSE_AUTOMATED.split("\n", 1)[1],
    ),
    ("stories, other topic", LIGHTHOUSE, VOLCANO_STORY),
]
