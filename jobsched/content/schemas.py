"""The published JSON Schemas (draft 2020-12) of a research card, a story and a story template,
generated from the models so the two never disagree, and the card check of /research/validate.

`python -m jobsched.content.schemas DIR` writes them to DIR (the copies in docs/schemas/; a test
keeps those equal to these).
"""

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from jobsched.content.story_templates import StoryTemplate
from jobsched.errors import FieldProblem
from jobsched.models.content import ResearchCard, Story

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_FILES: dict[str, type[BaseModel]] = {
    "research-card.schema.json": ResearchCard,
    "story.schema.json": Story,
    "story-template.schema.json": StoryTemplate,
}


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    return {"$schema": DIALECT, **model.model_json_schema()}


def card_schema() -> dict[str, Any]:
    return json_schema(ResearchCard)


def story_schema() -> dict[str, Any]:
    return json_schema(Story)


def story_template_schema() -> dict[str, Any]:
    return json_schema(StoryTemplate)


def problems_of(error: ValidationError) -> list[FieldProblem]:
    return [
        FieldProblem(".".join(str(part) for part in item["loc"]), item["msg"])
        for item in error.errors()
    ]


def validate_card(obj: object) -> list[FieldProblem]:
    """Every way `obj` fails the research card schema; empty when it is a valid card."""
    if not isinstance(obj, dict):
        return [FieldProblem("", "a research card is a JSON object")]
    try:
        ResearchCard.model_validate(obj)
    except ValidationError as exc:
        return problems_of(exc)
    return []


def write_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in SCHEMA_FILES.items():
        path = directory / name
        path.write_text(json.dumps(json_schema(model), indent=2) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas")):
        print(path)
