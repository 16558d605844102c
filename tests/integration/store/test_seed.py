"""The default templates: seeded once, left alone once edited, their defaults valid."""

import pytest

from jobsched.jobs.seed import DEFAULT_TEMPLATES, seed_default_templates
from jobsched.jobs.templates import TemplateCreate, TemplatePatch, update_template
from jobsched.params import validate_params
from jobsched.ports import Stores

# Params a request must add to the defaults (research has no sensible default topic).
REQUIRED_EXTRAS = {"research": {"topic": "octopus cognition"}}


def test_seed_creates_the_default_templates_once(stores: Stores) -> None:
    first = seed_default_templates(stores)
    second = seed_default_templates(stores)

    assert first == ["story_generation", "research", "echo"]
    assert second == []
    listed = stores.templates.list_page(50, None).items
    assert sorted(t.template_id for t in listed) == sorted(first)


def test_seed_leaves_an_edited_template_alone(stores: Stores) -> None:
    seed_default_templates(stores)
    update_template(stores, "echo", TemplatePatch(name="My echo"))

    seed_default_templates(stores)

    assert stores.templates.get("echo").name == "My echo"


@pytest.mark.parametrize("template", DEFAULT_TEMPLATES, ids=lambda t: t.template_id)
def test_default_params_satisfy_their_schema(template: TemplateCreate) -> None:
    params = {**template.default_params, **REQUIRED_EXTRAS.get(template.template_id, {})}

    validate_params(template.params_schema, params)
