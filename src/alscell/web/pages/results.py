"""Results: descriptive outcomes per protocol version, with what they cannot show next to them.

The statistical evaluation (natural-history comparison, mixed models, survival, reports) comes
later; until then this page lists each patient's ALSFRS-R change at the analysis plan's time point
and the counts per category, from :func:`alscell.services.results.program_results`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from alscell.domain.access import Action
from alscell.services import access, results
from alscell.web.deps import SessionDep, TodayDep
from alscell.web.pages.common import PageUser, render

router = APIRouter(include_in_schema=False)


@router.get("/results", response_class=HTMLResponse)
def results_index(request: Request, user: PageUser, session: SessionDep) -> HTMLResponse:
    """The protocol versions to show results for."""
    versions = results.list_result_protocols(session, by=user)
    return render(request, "results/index.html", user=user, title="Results", versions=versions)


@router.get("/results/{protocol_id}", response_class=HTMLResponse)
def results_page(
    protocol_id: int, request: Request, user: PageUser, session: SessionDep, today: TodayDep
) -> HTMLResponse:
    """One protocol version's descriptive outcomes, plan version, amendments and caveats."""
    view = results.program_results(session, protocol_id=protocol_id, by=user, today=today)
    return render(request, "results/program.html", user=user, title=f"Results: {view.protocol.key}",
                  view=view, categories=list(results.Category),
                  may_lock=access.allowed_to(user, Action.MANAGE_ANALYSIS_PLAN))  # fmt: skip
