"""The dashboard's pages, one module each; `ui_router` gathers them with the session's routes."""

from fastapi import APIRouter

from api.ui import web
from api.ui.pages import groups, keys, lineage, overview, queue, runs, schedules, templates

PAGE_MODULES = (overview, queue, runs, lineage, groups, schedules, templates, keys)


def ui_router() -> APIRouter:
    router = APIRouter()
    router.include_router(web.router)
    for module in PAGE_MODULES:
        router.include_router(module.router)
    return router
