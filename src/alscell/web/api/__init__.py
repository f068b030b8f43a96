"""The JSON API: one router per area, every failure documented as problem details."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from alscell.web.api import (
    admin,
    assessments,
    audit,
    auth,
    doses,
    enrollments,
    evaluation,
    patients,
    products,
    protocols,
    safety,
)
from alscell.web.deps import permission_gate
from alscell.web.errors import PROBLEM_RESPONSES

__all__ = ["api_router"]

api_router = APIRouter(responses=PROBLEM_RESPONSES, dependencies=[Depends(permission_gate)])
api_router.include_router(auth.router)
api_router.include_router(patients.router)
api_router.include_router(enrollments.router)
api_router.include_router(assessments.router)
api_router.include_router(protocols.router)
api_router.include_router(evaluation.router)
api_router.include_router(products.router)
api_router.include_router(doses.router)
api_router.include_router(safety.router)
api_router.include_router(admin.router)
api_router.include_router(audit.router)
