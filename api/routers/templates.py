"""/templates: create, list, read, update (a new version), archive."""

from fastapi import APIRouter, status

from api.deps import DEFAULT_LIMIT, CanAdmin, CanRead, Cursor, Limit, PathId, StoresDep
from api.schemas import PageOut, TemplateOut
from jobsched.jobs import templates as use

router = APIRouter(prefix="/templates", tags=["templates"])


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
def get_template(stores: StoresDep, template_id: PathId) -> TemplateOut:
    return TemplateOut.of(stores.templates.get(template_id))


@router.patch("/{template_id}", dependencies=[CanAdmin])
def update_template(stores: StoresDep, template_id: PathId, body: use.TemplatePatch) -> TemplateOut:
    return TemplateOut.of(use.update_template(stores, template_id, body))


@router.delete("/{template_id}", dependencies=[CanAdmin])
def archive_template(stores: StoresDep, template_id: PathId) -> TemplateOut:
    """Archive: the template stays readable, and creating a job from it is 409."""
    return TemplateOut.of(use.archive_template(stores, template_id))
