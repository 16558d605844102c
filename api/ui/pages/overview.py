"""/ui/: the overview: counts by state, and what needs attention."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.ui.live import panel
from api.ui.render import page, render
from api.ui.web import SessionDep, session_of

router = APIRouter(prefix="/ui", include_in_schema=False)


@panel("counts")
async def counts(request: Request) -> str:
    stats = await session_of(request).api.get("/queue/stats")
    return render("partials/overview_counts.html", stats=stats)


@router.get("/", response_class=HTMLResponse)
async def overview(request: Request, session: SessionDep) -> HTMLResponse:
    return page(
        request,
        "overview.html",
        section="overview",
        panels=["counts"],
        counts_html=await counts(request),
    )
