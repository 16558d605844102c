"""The offline provider's vocabulary: plain word lists and sentence templates.

Large enough that two texts from different seeds share few three-word runs.
"""

ADJECTIVES = (
    "ancient", "amber", "bitter", "brave", "bright", "broken", "careful", "clever", "cold",
    "copper", "crimson", "curious", "distant", "dusty", "early", "electric", "empty", "fading",
    "fierce", "frozen", "gentle", "gilded", "golden", "hidden", "hollow", "humble", "iron",
    "late", "lonely", "lucky", "narrow", "patient", "quiet", "restless", "rusty", "salted",
    "secret", "silent", "silver", "small", "stubborn", "sudden", "tangled", "tired", "velvet",
    "wandering", "weathered", "wild", "winding", "young",
)  # fmt: skip

NOUNS = (
    "archive", "bell", "bridge", "cabin", "canal", "candle", "compass", "corridor", "courtyard",
    "engine", "ferry", "field", "garden", "glacier", "harbor", "hill", "island", "ladder",
    "lantern", "letter", "library", "lighthouse", "machine", "map", "market", "meadow",
    "mirror", "notebook", "orchard", "quarry", "radio", "river", "road", "rooftop", "signal",
    "staircase", "station", "storm", "telescope", "tower", "tunnel", "valley", "village",
    "window", "workshop", "clock", "kettle", "boat", "forest", "well",
)  # fmt: skip

VERBS = (
    "carried", "chased", "counted", "crossed", "discovered", "doubted", "echoed", "followed",
    "guarded", "hid", "ignored", "lit", "measured", "mended", "opened", "painted", "promised",
    "questioned", "remembered", "repaired", "rescued", "searched", "shared", "studied",
    "traded", "trusted", "unlocked", "visited", "watched", "welcomed",
)  # fmt: skip

ADVERBS = (
    "slowly", "quietly", "suddenly", "carefully", "gladly", "barely", "briefly", "boldly",
    "gently", "eagerly", "finally", "nervously", "patiently", "silently", "warmly", "wisely",
)  # fmt: skip

NAMES = (
    "Ada", "Bram", "Cleo", "Dara", "Eli", "Faye", "Gus", "Hana", "Ivo", "Juno", "Kai", "Lena",
    "Milo", "Nia", "Otto", "Pia", "Quin", "Rosa", "Sami", "Tess", "Uma", "Vik", "Wren", "Yara",
)  # fmt: skip

TIMES = (
    "at dawn", "before the rain", "after midnight", "by the first frost", "in late summer",
    "on market day", "during the long winter", "at low tide", "when the bells stopped",
    "at the end of the season", "in the small hours", "one windless evening",
)  # fmt: skip

# {A} adjective, {N}/{M} nouns, {V} verb (past), {D} adverb, {C} a name, {T} the topic (or a
# noun when there is none), {W} a time.
SENTENCES = (
    "The {A} {N} {V} the {M} {W}.",
    "{C} {V} the {A} {N} and said nothing about the {T}.",
    "Nobody in the {N} had {V} the {T} so {D}.",
    "{W}, {C} {V} the {M} near the {A} {N}.",
    "Everything about the {T} {V} the {A} {M} in the end.",
    "{C} {D} {V} a {A} {N} that smelled of {T}.",
    "The {T} was {A}, and the {N} {V} it {D}.",
    "Beyond the {A} {N}, the {M} {V} every trace of the {T}.",
    "{C} kept the {A} {N} because it {V} the {T}.",
    "Some said the {N} {V} the {T}; others blamed the {A} {M}.",
    "{W} the {A} {N} {V} once more, {D}.",
    "Records of the {T} show that the {N} was {V} {W}.",
    "{C} and the {A} {M} {V} the {N} together.",
    "Even the {A} {N} {V} what the {T} had left behind.",
    "The {M} {D} {V} the {A} {T}.",
    "Long ago a {A} {N} {V} the {M}, or so the {T} story goes.",
)  # fmt: skip

TITLES = (
    "The {A} {N}",
    "{T} and the {A} {N}",
    "A {N} for {T}",
    "The {N} of {T}",
    "When the {N} {V}",
    "{C} and the {A} {M}",
    "{T}: the {A} {N}",
    "What the {N} {V}",
)  # fmt: skip

# Instruction words a workload's prompt uses; never taken for the topic.
_STOPWORDS = (
    "a", "about", "above", "after", "again", "all", "also", "an", "and", "angle", "any", "are",
    "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but",
    "by", "can", "card", "cards", "cover", "different", "distinct", "do", "does", "each", "few",
    "for", "from", "genre", "give", "has", "have", "here", "how", "in", "include", "into", "is",
    "it", "its", "json", "just", "keep", "list", "make", "more", "most", "must", "no", "not",
    "number", "object", "of", "original", "short", "on", "one", "only", "or", "other", "others",
    "our", "out", "over", "own", "plain", "please", "reply", "research", "return", "same",
    "separated", "should", "so", "some", "story", "stories", "such", "summary", "tags", "text",
    "than", "that", "the", "their", "them", "then", "there", "these", "they", "this", "those",
    "title", "to", "topic", "under", "up", "very", "was", "were", "what", "when", "where", "which",
    "while", "who", "whose", "why", "will", "with", "write", "you", "your",
)  # fmt: skip
STOPWORDS = frozenset(_STOPWORDS)
