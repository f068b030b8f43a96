"""Today: what is due today and this week, what is late, waiting or halted."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from alscell.services import overview
from alscell.web.deps import SessionDep, TodayDep
from alscell.web.pages.common import PageUser, render

router = APIRouter(include_in_schema=False)


@router.get("/")
def home() -> RedirectResponse:
    """The start page is Today."""
    return RedirectResponse("/today", status_code=303)


@router.get("/today", response_class=HTMLResponse)
def today_page(
    request: Request, user: PageUser, session: SessionDep, today: TodayDep
) -> HTMLResponse:
    """Due today and this week, overdue, reporting clocks, units, stopping rules."""
    view = overview.today_view(session, by=user, today=today)
    return render(request, "today.html", user=user, title="Today", view=view)
