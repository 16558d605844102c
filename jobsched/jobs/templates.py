"""Template management: create, update (a new version, kept), archive and restore, versions."""

from typing import Literal

from pydantic import BaseModel, Field

from jobsched.errors import ConflictError, ValidationFailedError, stale_version
from jobsched.jobs.template_rules import check_template
from jobsched.models import REQUEST_CONFIG, JobTemplate, RetryPolicy, utcnow
from jobsched.models.budgets import MAX_BUDGETS, Budget
from jobsched.models.concurrency import MAX_KEYS, ConcurrencyLimit
from jobsched.models.gates import MAX_CHECKS, Checks
from jobsched.models.instants import TimeFromJson
from jobsched.params import JsonObject
from jobsched.ports import Page, Stores

TEMPLATE_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"


CONCURRENCY_DOC = (
    "Concurrency keys: units with the same key value run at most `limit` at once, across all "
    "slots. Each key at most once; a `params.<name>` key must name a param declared in "
    "params_schema.properties or default_params. A job keeps the limits of the version it was "
    "queued with. [] on PATCH removes them."
)
CHECKS_DOC = (
    f"Quality gates (at most {MAX_CHECKS}): checks of a run's output files, each on the files "
    "its `files` glob matches (relative to the run's output folder). A run whose outputs fail "
    "one is rejected, with the failures on the run. Kinds: json_schema (each file is JSON valid "
    "against `schema`), count (the number of matching files within min/max), length (each "
    "file's text, or its JSON `field`'s, within min/max chars or words), near_duplicate (each "
    "file's text less similar than `threshold` to stored items and the run's other outputs). "
    "[] on PATCH removes them."
)
BUDGETS_DOC = (
    f"Spend limits (at most {MAX_BUDGETS}): tokens (prompt + completion) and/or usd per day or "
    "month, in `timezone` (UTC unless given). A job of the template whose budget is spent is "
    "not started: it keeps its place, with the reason, until the period turns or the budget is "
    "raised. on_exceed: hold_new (runs that started finish) or stop (they are stopped too). "
    "The current version's budgets hold every job of the template. [] on PATCH removes them."
)
# Shown by GET, never applied.
SERVER_SET = {"version", "archived", "created_at", "updated_at", "budget_status"}
READ_ONLY = {"template_id", *SERVER_SET}  # on PATCH, the path names the template


class ReadOnlyFields(BaseModel):
    """What a template's GET shows and only the server sets: a client may send them back (what
    the API returns, it accepts), and they are checked, never applied."""

    model_config = REQUEST_CONFIG

    version: int | None = Field(
        default=None, ge=1, description="read-only; on PATCH, the version you read (else 409)"
    )
    archived: bool | None = Field(
        default=None, description="read-only: archive and restore have endpoints of their own"
    )
    created_at: TimeFromJson | None = Field(default=None, description="read-only, ignored")
    updated_at: TimeFromJson | None = Field(default=None, description="read-only, ignored")
    budget_status: list[JsonObject] | None = Field(
        default=None, max_length=MAX_BUDGETS, description="read-only, ignored"
    )


class TemplateCreate(ReadOnlyFields):
    model_config = REQUEST_CONFIG

    archived: Literal[False] | None = Field(
        default=None, description="read-only: a new template is never archived"
    )

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
    concurrency: list[ConcurrencyLimit] = Field(
        default_factory=list, max_length=MAX_KEYS, description=CONCURRENCY_DOC
    )
    checks: Checks = Field(default_factory=list, description=CHECKS_DOC)
    budgets: list[Budget] = Field(
        default_factory=list, max_length=MAX_BUDGETS, description=BUDGETS_DOC
    )


class TemplatePatch(ReadOnlyFields):
    model_config = REQUEST_CONFIG

    template_id: str | None = Field(default=None, description="read-only: the path's id")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    workload: str | None = Field(default=None, min_length=1, max_length=200)
    default_params: JsonObject | None = None
    params_schema: JsonObject | None = None
    cpu: int | None = Field(default=None, ge=256, le=16384)
    memory: int | None = Field(default=None, ge=512, le=122880)
    timeout_seconds: int | None = Field(default=None, ge=1, le=7 * 86400)
    retry: RetryPolicy | None = None
    concurrency: list[ConcurrencyLimit] | None = Field(
        default=None, max_length=MAX_KEYS, description=CONCURRENCY_DOC
    )
    checks: Checks | None = Field(default=None, description=CHECKS_DOC)
    budgets: list[Budget] | None = Field(
        default=None, max_length=MAX_BUDGETS, description=BUDGETS_DOC
    )


def create_template(stores: Stores, request: TemplateCreate) -> JobTemplate:
    template = JobTemplate(**request.model_dump(exclude=SERVER_SET))
    check_template(template)
    stores.templates.create(template)
    return template


def update_template(stores: Stores, template_id: str, patch: TemplatePatch) -> JobTemplate:
    """Apply the given fields and bump the version; conditional on the version read."""
    current = stores.templates.get(template_id)
    if current.archived:
        raise ConflictError(f"template {template_id!r} is archived; it cannot change")
    _check_read_only(current, patch)
    changes = patch.model_dump(exclude_unset=True, exclude_none=True, exclude=READ_ONLY)
    # Validated from plain data: model_copy(update=...) would hold `retry` as a dict.
    updated = JobTemplate.model_validate(
        {**current.model_dump(), **changes, "version": current.version + 1, "updated_at": utcnow()}
    )
    check_template(updated)
    stores.templates.replace(updated, expected_version=current.version)
    if updated.budgets != current.budgets:
        stores.kicker.kick()  # a raised budget lets its waiting jobs start now
    return updated


def _check_read_only(current: JobTemplate, patch: TemplatePatch) -> None:
    if patch.template_id is not None and patch.template_id != current.template_id:
        raise ValidationFailedError.on("template_id", "is read-only: the path names the template")
    if patch.archived is not None and patch.archived != current.archived:
        raise ValidationFailedError.on("archived", "is read-only: use /archive or /restore")
    if patch.version is not None and patch.version != current.version:
        raise stale_version(f"template {current.template_id!r}", current.version, patch.version)


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
