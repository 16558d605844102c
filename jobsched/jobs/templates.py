"""Template management: create, update (a new version, kept), archive and restore, versions."""

from pydantic import BaseModel, Field

from jobsched.errors import ConflictError
from jobsched.jobs.template_rules import check_template
from jobsched.models import REQUEST_CONFIG, JobTemplate, RetryPolicy, utcnow
from jobsched.params import JsonObject
from jobsched.ports import Page, Stores

TEMPLATE_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class TemplateCreate(BaseModel):
    model_config = REQUEST_CONFIG

    template_id: str = Field(pattern=TEMPLATE_ID_PATTERN, description="A slug, e.g. daily-story")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    workload: str = Field(min_length=1, max_length=200, description="What the container runs")
    default_params: JsonObject = Field(default_factory=dict)
    params_schema: JsonObject = Field(default_factory=dict, description="JSON Schema")
    cpu: int = Field(default=1024, ge=256, le=16384)
    memory: int = Field(default=2048, ge=512, le=122880)
    timeout_seconds: int = Field(default=3600, ge=1, le=7 * 86400)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)


class TemplatePatch(BaseModel):
    model_config = REQUEST_CONFIG

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    workload: str | None = Field(default=None, min_length=1, max_length=200)
    default_params: JsonObject | None = None
    params_schema: JsonObject | None = None
    cpu: int | None = Field(default=None, ge=256, le=16384)
    memory: int | None = Field(default=None, ge=512, le=122880)
    timeout_seconds: int | None = Field(default=None, ge=1, le=7 * 86400)
    retry: RetryPolicy | None = None


def create_template(stores: Stores, request: TemplateCreate) -> JobTemplate:
    template = JobTemplate(**request.model_dump())
    check_template(template)
    stores.templates.create(template)
    return template


def update_template(stores: Stores, template_id: str, patch: TemplatePatch) -> JobTemplate:
    """Apply the given fields and bump the version; conditional on the version read."""
    current = stores.templates.get(template_id)
    if current.archived:
        raise ConflictError(f"template {template_id!r} is archived; it cannot change")
    changes = patch.model_dump(exclude_unset=True, exclude_none=True)
    # Validated from plain data: model_copy(update=...) would hold `retry` as a dict.
    updated = JobTemplate.model_validate(
        {**current.model_dump(), **changes, "version": current.version + 1, "updated_at": utcnow()}
    )
    check_template(updated)
    stores.templates.replace(updated, expected_version=current.version)
    return updated


def archive_template(stores: Stores, template_id: str) -> JobTemplate:
    return stores.templates.archive(template_id)


def restore_template(stores: Stores, template_id: str) -> JobTemplate:
    """Archived -> taking jobs again, at the version it had; 409 when it is not archived."""
    return stores.templates.restore(template_id)


def get_template_version(stores: Stores, template_id: str, version: int) -> JobTemplate:
    return stores.templates.get_version(template_id, version)


def list_template_versions(
    stores: Stores, template_id: str, limit: int, cursor: str | None
) -> Page[JobTemplate]:
    return stores.templates.list_versions(template_id, limit, cursor)


def list_templates(stores: Stores, limit: int, cursor: str | None) -> Page[JobTemplate]:
    return stores.templates.list_page(limit, cursor)
