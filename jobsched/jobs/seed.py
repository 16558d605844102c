"""The templates every fresh installation starts with (the local runtime seeds them at start)."""

from typing import Any

from jobsched.errors import ConflictError
from jobsched.jobs.templates import TemplateCreate, create_template
from jobsched.ports import Stores

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
DEFAULT_MODEL = "gemini/gemini-2.0-flash-exp"


def _object_schema(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    # additionalProperties=False so a misspelt param fails at enqueue, not hours later in the run.
    schema: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    return schema


_MODEL_PARAM = {"type": "string", "minLength": 1, "description": "LLM model id (LiteLLM style)"}
_SEED_PARAM = {
    "type": "string",
    "minLength": 1,
    "maxLength": 200,
    "description": "varies the outputs; default the run's id (a rerun of a run repeats them)",
}

DEFAULT_TEMPLATES: list[TemplateCreate] = [
    TemplateCreate(
        template_id="story_generation",
        name="Story Generation",
        description="Generate stories with an LLM; optionally skip near-duplicates.",
        workload="story_generation",
        default_params={"max_stories": 1, "enable_dedup": True, "model": DEFAULT_MODEL},
        params_schema=_object_schema(
            {
                "max_stories": {"type": "integer", "minimum": 1, "maximum": 50},
                "enable_dedup": {"type": "boolean"},
                "model": _MODEL_PARAM,
                "topic": {"type": "string", "minLength": 1, "maxLength": 500},
                "genre": {"type": "string", "minLength": 1, "maxLength": 60},
                "card_id": {"type": "string", "pattern": "^crd_[0-9a-f]{16}$"},
                "seed": _SEED_PARAM,
            }
        ),
    ),
    TemplateCreate(
        template_id="research",
        name="Research",
        description="Research a topic and write the findings as cards.",
        workload="research",
        default_params={"max_cards": 5, "model": DEFAULT_MODEL},
        params_schema=_object_schema(
            {
                "topic": {"type": "string", "minLength": 1, "maxLength": 500},
                "max_cards": {"type": "integer", "minimum": 1, "maximum": 50},
                "model": _MODEL_PARAM,
                "seed": _SEED_PARAM,
            },
            required=("topic",),  # no sensible default: every research job names its topic
        ),
    ),
    TemplateCreate(
        template_id="echo",
        name="Echo",
        description="Print a message, sleep, exit with a chosen code: checks a deployment.",
        workload="echo",
        default_params={"message": "hello from jobsched", "sleep_seconds": 0, "exit_code": 0},
        params_schema=_object_schema(
            {
                "message": {"type": "string", "maxLength": 10_000},
                "sleep_seconds": {"type": "number", "minimum": 0, "maximum": 3600},
                "exit_code": {"type": "integer", "minimum": 0, "maximum": 255},
                "output": {"type": "boolean"},  # write echo.txt (an artifact) or not
                # A path on the worker's machine: the sleep ends once it exists.
                "until_file": {"type": "string", "maxLength": 1024},
            }
        ),
        cpu=256,
        memory=512,
        timeout_seconds=3900,  # above the longest sleep, so only a stuck echo times out
    ),
]


def seed_default_templates(stores: Stores) -> list[str]:
    """Create the default templates that are missing; returns the ids created (idempotent).

    An existing template is left as it is, even if edited or archived: the user's changes win.
    """
    created = []
    for request in DEFAULT_TEMPLATES:
        try:
            create_template(stores, request)
        except ConflictError:
            continue
        created.append(request.template_id)
    return created
