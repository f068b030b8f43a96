"""The web application: the JSON API under /api/v1 (and, later, the clinic's pages).

``create_app(settings)`` builds everything; there is no module-level app. ``alscell serve`` hands
uvicorn the factory string ``alscell.web.app:create_app``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from alscell import __version__
from alscell.config import Settings, load_settings
from alscell.storage.comparator_files import natural_history_from, safety_reference_from
from alscell.storage.session import make_engine, make_session_factory
from alscell.web.api import api_router
from alscell.web.errors import install_error_handlers
from alscell.web.hardening import API_DOCS_CDN, Hardening
from alscell.web.pages import pages_router
from alscell.web.pages.common import LoginRequired, render

__all__ = ["API_PREFIX", "create_app"]

API_PREFIX = "/api/v1"
DOCS_PATH = f"{API_PREFIX}/docs"
STATIC = Path(__file__).parent / "static"


def _operation_id(route: APIRoute) -> str:
    return route.name


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application for ``settings`` (read from the environment when None)."""
    settings = settings or load_settings()
    app = FastAPI(
        title="alscell",
        version=__version__,
        summary="Run an ALS cell-therapy treatment program safely, and evaluate its outcomes honestly.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served below, without inline script (web/hardening.py)
        redoc_url=None,
        generate_unique_id_function=_operation_id,
    )
    engine = make_engine(settings.database_url, busy_timeout_ms=settings.busy_timeout_ms)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = make_session_factory(engine)
    app.state.natural_history = natural_history_from(settings.natural_history_file)
    app.state.safety_reference = safety_reference_from(settings.safety_reference_file)
    install_error_handlers(app, render_error=render_error)
    app.add_exception_handler(LoginRequired, _to_login)
    app.include_router(api_router, prefix=API_PREFIX)
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.add_api_route(DOCS_PATH, _api_docs, methods=["GET"], include_in_schema=False)
    app.add_middleware(Hardening, max_body_bytes=settings.max_request_bytes, docs_path=DOCS_PATH)
    return app


def _api_docs() -> HTMLResponse:
    """The interactive API docs: Swagger UI from its CDN, started by a script file of alscell's own."""
    swagger = f"{API_DOCS_CDN}/npm/swagger-ui-dist@5"
    return HTMLResponse(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>alscell API</title>'
        f'<link rel="stylesheet" href="{swagger}/swagger-ui.css"></head><body>'
        f'<div id="swagger-ui" data-openapi="{API_PREFIX}/openapi.json"></div>'
        f'<script src="{swagger}/swagger-ui-bundle.js"></script>'
        '<script src="/static/api-docs.js"></script></body></html>'
    )


def render_error(request: Request, status: int, title: str, detail: str) -> Response:
    """An error as a page, with the signed-in user's navigation when there is one."""
    viewer = getattr(request.state, "viewer", None)
    return render(request, "error.html", status=status, title=title, detail=detail, user=viewer)


def _to_login(_request: Request, exception: Exception) -> Response:
    target = exception.next_path if isinstance(exception, LoginRequired) else "/today"
    return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)
