"""The clinic's pages: server-rendered, forms that work without JavaScript, the same services as the API."""

from __future__ import annotations

from fastapi import APIRouter

from alscell.web.pages import auth, patients, today

__all__ = ["pages_router"]

pages_router = APIRouter(include_in_schema=False)
pages_router.include_router(auth.router)
pages_router.include_router(today.router)
pages_router.include_router(patients.router)
