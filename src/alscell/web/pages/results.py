"""Results: each protocol version's outcome evaluation against natural history.

The page renders the one :class:`~alscell.domain.evaluation.Evaluation` from
:func:`alscell.services.evaluation.evaluate_program`: the evidence statement and the biases first,
then the cohort's numbers, a figure of each patient against natural history, and each patient's row.
Every sentence about what the results mean comes from the evaluation itself, never from the page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from alscell import __version__
from alscell.domain.access import Action
from alscell.domain.evaluation import KNOWN, NUROWN_PLACEBO_RESPONDERS, Category, Evaluation
from alscell.reports.figures import outcome_chart, to_svg
from alscell.services import access, evaluation, protocols
from alscell.storage.models import User
from alscell.web.deps import NaturalHistoryDep, SessionDep, TodayDep
from alscell.web.pages.common import PageUser, render

router = APIRouter(include_in_schema=False)


@router.get("/results", response_class=HTMLResponse)
def results_index(request: Request, user: PageUser, session: SessionDep) -> HTMLResponse:
    """The protocol versions with enrolled patients, to evaluate."""
    versions = evaluation.evaluation_protocols(session, by=user)
    return render(request, "results/index.html", user=user, title="Results", versions=versions)


@router.get("/results/{protocol_id}", response_class=HTMLResponse)
def results_page(
    protocol_id: int, request: Request, user: PageUser, session: SessionDep, today: TodayDep,
    model: NaturalHistoryDep,
) -> HTMLResponse:  # fmt: skip
    """One protocol version's evaluation as of today: statement and biases, cohort, figure, patients."""
    result = evaluation.evaluate_program(
        session, protocol_id=protocol_id, by=user, today=today, model=model
    )
    context = _context(session, protocol_id, result, user)
    return render(request, "results/program.html", user=user,
                  title=f"Results: {result.protocol_id} v{result.protocol_version}", **context)  # fmt: skip


def _context(session: Session, protocol_id: int, result: Evaluation, user: User) -> dict[str, Any]:
    """What the template needs beside the evaluation: the plan's amendments, the figure, the rights."""
    with_change = sum(1 for patient in result.patients if patient.change is not None)
    return {
        "evaluation": result,
        "version_id": protocol_id,
        "title_text": protocols.protocol_of(session, protocol_id).title,
        "amendments": protocols.list_amendments(session, protocol_id, by=user),
        "chart": to_svg(outcome_chart(result)) if with_change else None,
        "with_change": with_change,
        "categories": list(Category),
        "known_categories": KNOWN,
        "placebo_responders": NUROWN_PLACEBO_RESPONDERS,
        "software_version": __version__,
        "may_lock": access.allowed_to(user, Action.MANAGE_ANALYSIS_PLAN),
        "links_patients": access.allowed_to(user, Action.VIEW_PATIENT),
    }
