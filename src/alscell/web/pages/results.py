"""Results: each protocol version's outcome evaluation against natural history.

The page renders the one :class:`~alscell.domain.evaluation.Evaluation` from
:func:`alscell.services.evaluation.evaluate_program`: the evidence statement and the biases first,
then the cohort's numbers, a figure of each patient against natural history, each patient's row,
and the standard analyses (mixed model, survival against ENCALS, CAFS, safety rates, power). Every sentence about what the results mean comes from the evaluation itself, never from the page.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from alscell import __version__
from alscell.domain.access import Action
from alscell.domain.analyses import Analyses
from alscell.domain.evaluation import KNOWN, NUROWN_PLACEBO_RESPONDERS, Category, Evaluation
from alscell.domain.report import ProgramReport
from alscell.domain.stats.mixed_model import MixedModelFit
from alscell.reports.figures import outcome_chart, survival_chart, to_svg
from alscell.reports.render import render_html, render_pdf
from alscell.services import access, evaluation, protocols, reporting
from alscell.storage.models import User
from alscell.web.deps import (
    NaturalHistoryDep,
    NowDep,
    SafetyReferenceDep,
    SessionDep,
    TodayDep,
    WritingSessionDep,
)
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
    model: NaturalHistoryDep, reference: SafetyReferenceDep,
) -> HTMLResponse:  # fmt: skip
    """One protocol version's evaluation as of today: statement and biases, cohort, figure, patients,
    then the standard analyses."""
    result = evaluation.evaluate_program(
        session,
        protocol_id=protocol_id,
        by=user,
        today=today,
        model=model,
        safety_reference=reference,
    )
    context = _context(session, protocol_id, result, user)
    return render(request, "results/program.html", user=user,
                  title=f"Results: {result.protocol_id} v{result.protocol_version}", **context)  # fmt: skip


@router.get("/results/{protocol_id}/report.html", response_class=HTMLResponse)
def report_html(
    protocol_id: int, user: PageUser, session: SessionDep, writer: WritingSessionDep, today: TodayDep, now: NowDep,
    model: NaturalHistoryDep, reference: SafetyReferenceDep,
) -> HTMLResponse:  # fmt: skip
    """The program report as one self-contained HTML page (same permission as the results page); audited."""
    report = reporting.program_report(session, protocol_id=protocol_id, by=user, today=today, model=model,
                                      safety_reference=reference)  # fmt: skip
    content = render_html(report)
    _issued(writer, report, "HTML", user, now)
    return HTMLResponse(content)


@router.get("/results/{protocol_id}/report.pdf")
def report_pdf(
    protocol_id: int, user: PageUser, session: SessionDep, writer: WritingSessionDep, today: TodayDep, now: NowDep,
    model: NaturalHistoryDep, reference: SafetyReferenceDep,
) -> Response:  # fmt: skip
    """The program report as a PDF, offered as a download named after the protocol and the cut-off;
    audited."""
    report = reporting.program_report(session, protocol_id=protocol_id, by=user, today=today, model=model,
                                      safety_reference=reference)  # fmt: skip
    content = render_pdf(report)
    _issued(writer, report, "PDF", user, now)
    name = f"report-{report.evaluation.protocol_id}-{report.provenance.data_cutoff}.pdf"
    return Response(content, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


def _issued(
    writer: Session,
    report: ProgramReport,
    report_format: Literal["HTML", "PDF"],
    user: User,
    now: datetime,
) -> None:
    """Audit the report handed out, in the request's writing session (web/deps.py explains why the
    reading session cannot write)."""
    reporting.record_report_issued(
        writer, report=report, report_format=report_format, by=user, now=now
    )


def _context(session: Session, protocol_id: int, result: Evaluation, user: User) -> dict[str, Any]:
    """What the template needs beside the evaluation: the plan's amendments, the figures, the rights."""
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
        **_analyses_context(result.analyses),
    }


def _analyses_context(analyses: Analyses | None) -> dict[str, Any]:
    """The survival figure, the mixed model's variance components as SDs, the power's caveats once."""
    survival = analyses.survival if analyses else None
    power = analyses.power if analyses else ()
    return {
        "survival_chart": to_svg(survival_chart(survival)) if survival else None,
        "variance_components": _variance_components(analyses.mixed_model if analyses else None),
        "power_methods": list(dict.fromkeys(result.method for result in power)),
        "power_caveats": list(
            dict.fromkeys(caveat for result in power for caveat in result.caveats)
        ),
    }


def _variance_components(fit: MixedModelFit | None) -> dict[str, float | None]:
    """Random intercept and slope SDs, their correlation (None when an SD is 0) and the residual SD."""
    if fit is None:
        return {}
    g = fit.random_effects_covariance
    intercept_sd = math.sqrt(max(g.intercept_variance, 0.0))  # PSD by construction; guards rounding
    slope_sd = math.sqrt(max(g.slope_variance, 0.0))
    both = intercept_sd * slope_sd
    return {
        "intercept_sd": intercept_sd,
        "slope_sd": slope_sd,
        "correlation": g.covariance / both if both > 0 else None,
        "residual_sd": math.sqrt(max(fit.residual_variance, 0.0)),
    }
