"""/templates: create, list, read, update (a new version), archive and restore, versions."""

from typing import Annotated

from fastapi import APIRouter, Path, status

from api.deps import DEFAULT_LIMIT, CanAdmin, CanRead, Cursor, Limit, PathId, StoresDep
from api.schemas import (
    BudgetStatusOut,
    PageOut,
    TemplateDetailOut,
    TemplateOut,
    TemplateVersionOut,
)
from jobsched.dispatch.budgets import hold_spends, template_holds
from jobsched.jobs import templates as use
from jobsched.models import utcnow

router = APIRouter(prefix="/templates", tags=["templates"])

# Bounded so that a client's number always fits the stores' integers.
VersionNumber = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[CanAdmin])
def create_template(stores: StoresDep, body: use.TemplateCreate) -> TemplateOut:
    return TemplateOut.of(use.create_template(stores, body))


@router.get("", dependencies=[CanRead])
def list_templates(
    stores: StoresDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> PageOut[TemplateOut]:
    page = use.list_templates(stores, limit, cursor)
    return PageOut(items=[TemplateOut.of(t) for t in page.items], next_cursor=page.next_cursor)


@router.get("/{template_id}", dependencies=[CanRead])
def get_template(stores: StoresDep, template_id: PathId) -> TemplateDetailOut:
    """With `budget_status`: what each budget has committed in its current period."""
    template = stores.templates.get(template_id)
    spends = hold_spends(stores, template_holds(template, utcnow()))
    return TemplateDetailOut(
        **TemplateOut.of(template).model_dump(), budget_status=BudgetStatusOut.all_of(spends)
    )


@router.patch("/{template_id}", dependencies=[CanAdmin])
def update_template(stores: StoresDep, template_id: PathId, body: use.TemplatePatch) -> TemplateOut:
    return TemplateOut.of(use.update_template(stores, template_id, body))


@router.delete("/{template_id}", dependencies=[CanAdmin])
def archive_template(stores: StoresDep, template_id: PathId) -> TemplateOut:
    """Archive: the template stays readable, and creating a job from it is 409."""
    return TemplateOut.of(use.archive_template(stores, template_id))


@router.post("/{template_id}/restore", dependencies=[CanAdmin])
def restore_template(stores: StoresDep, template_id: PathId) -> TemplateOut:
    """Undo an archive: the template takes jobs again, at its version. 409 if not archived."""
    return TemplateOut.of(use.restore_template(stores, template_id))


@router.get("/{template_id}/versions", dependencies=[CanRead])
def list_template_versions(
    stores: StoresDep, template_id: PathId, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> PageOut[TemplateVersionOut]:
    """Every version as it was saved, newest first."""
    page = use.list_template_versions(stores, template_id, limit, cursor)
    return PageOut(
        items=[TemplateVersionOut.of(t) for t in page.items], next_cursor=page.next_cursor
    )


@router.get("/{template_id}/versions/{version}", dependencies=[CanRead])
def get_template_version(
    stores: StoresDep, template_id: PathId, version: VersionNumber
) -> TemplateVersionOut:
    return TemplateVersionOut.of(use.get_template_version(stores, template_id, version))
