"""Patients: the list, and each patient's page (summary, calendar, chart, records, history)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from alscell.domain.lifecycle import PatientStatus
from alscell.reports.figures import alsfrs_chart, to_svg
from alscell.services import overview, patients
from alscell.web.deps import SessionDep, TodayDep
from alscell.web.pages.common import PageUser, render

router = APIRouter(include_in_schema=False)


@router.get("/patients", response_class=HTMLResponse)
def patient_list(
    request: Request, user: PageUser, session: SessionDep,
    status: Annotated[str, Query()] = "", search: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:  # fmt: skip
    """Patients by study code, filtered by status and code."""
    chosen = PatientStatus(status) if status in PatientStatus.__members__.values() else None
    rows, total = patients.list_patients(
        session, by=user, status=chosen, search=search or None, limit=200
    )
    return render(request, "patients.html", user=user, title="Patients", rows=rows, total=total,
                  statuses=list(PatientStatus), values={"status": status, "search": search})  # fmt: skip


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
def patient_page(
    patient_id: int, request: Request, user: PageUser, session: SessionDep, today: TodayDep
) -> HTMLResponse:
    """One patient: summary, calendar with deviations, ALSFRS-R chart, records and history."""
    view = overview.patient_overview(session, patient_id, by=user, today=today)
    points = [(rating.rated_on, rating.total) for rating in view.ratings]
    chart = to_svg(
        alsfrs_chart(
            points, treatment=view.treatment_period, title=f"ALSFRS-R of {view.patient.study_code}"
        )
    )
    return render(
        request,
        "patient.html",
        user=user,
        title=view.patient.study_code,
        view=view,
        chart=chart,
        today=today,
    )
