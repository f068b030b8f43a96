"""The clinic's pages: server-rendered, forms that work without JavaScript, the same services as the API."""

from __future__ import annotations

from fastapi import APIRouter

from alscell.web.pages import (
    admin,
    auth,
    forms_patient,
    forms_treatment,
    lab,
    patients,
    results,
    today,
)

__all__ = ["pages_router"]

pages_router = APIRouter(include_in_schema=False)
pages_router.include_router(auth.router)
pages_router.include_router(today.router)
# forms before patients: /patients/new is not a patient id
pages_router.include_router(forms_patient.router)
pages_router.include_router(forms_treatment.router)
pages_router.include_router(patients.router)
pages_router.include_router(lab.router)
pages_router.include_router(admin.router)
pages_router.include_router(results.router)
