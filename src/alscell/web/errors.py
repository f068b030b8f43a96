"""The one place that knows HTTP statuses: every error becomes RFC 9457 problem details.

The body is ``application/problem+json`` with ``type``, ``title``, ``status``, ``detail``, plus
``code`` (alscell's error class), ``errors`` (each problem's location and message) and, for safety
blocks, ``rules``, ``overridable`` and ``how_to_override``. Statuses are looked up along the class
hierarchy of :mod:`alscell.errors`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from alscell import errors
from alscell.storage.session import database_busy

__all__ = [
    "PROBLEM_RESPONSES",
    "RETRY_AFTER_SECONDS",
    "TITLES",
    "FieldError",
    "ProblemDetail",
    "install_error_handlers",
    "status_of",
]

STATUSES: Final[dict[type[errors.AlscellError], int]] = {
    errors.NotSignedIn: 401,
    errors.PermissionDenied: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.SafetyCheckFailed: 409,
    errors.InvalidInput: 422,
    errors.InsufficientData: 422,
}
TITLES: Final = {400: "Bad request", 401: "Not signed in", 403: "Forbidden", 404: "Not found",
                 405: "Method not allowed", 409: "Conflict", 413: "Too large", 415: "Unsupported media type",
                 422: "Invalid input", 500: "Internal error", 503: "Busy"}  # fmt: skip
RETRY_AFTER_SECONDS: Final = 2
"""What a 503 (database busy) asks the client to wait before trying again."""
HOW_TO_OVERRIDE: Final = (
    "a physician may record the dose again with an override naming each rule in 'rules' and a "
    'written reason: {"override": {"rules": [...], "reason": "..."}}'
)


class FieldError(BaseModel):
    """One problem with the request: where it is and what rule it breaks."""

    location: str
    message: str


class ProblemDetail(BaseModel):
    """RFC 9457 problem details, as every error response of the API."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldError] = []
    rules: list[str] | None = None
    overridable: bool | None = None
    how_to_override: str | None = None


PROBLEM_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    status: {
        "model": ProblemDetail,
        "description": TITLES[status],
        "content": {"application/problem+json": {}},
    }
    for status in (400, 401, 403, 404, 409, 413, 415, 422, 503)
}
"""Documented on every API route, so the OpenAPI document lists every failure a client can see
(413 and 415 come from :mod:`web.hardening` before any route runs, 503 from a busy database)."""


def status_of(error: errors.AlscellError) -> int:
    """The HTTP status of an alscell error: the first match along its class hierarchy."""
    for cls in type(error).__mro__:
        if cls in STATUSES:
            return STATUSES[cls]
    return 500


def problem(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """A problem+json response."""
    body = ProblemDetail(type=f"/problems/{code}", title=TITLES.get(status, "Error"), status=status,
                         detail=detail, code=code, **extra)  # fmt: skip
    if status == 401:
        headers = (headers or {}) | {"WWW-Authenticate": 'Bearer realm="alscell"'}
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status,
                        media_type="application/problem+json", headers=headers)  # fmt: skip


HtmlRenderer = Callable[[Request, int, str, str], Response]
"""Renders an error as a page: (request, status, title, detail)."""


def _alscell_error(request: Request, exception: Exception) -> Response:
    error = cast(errors.AlscellError, exception)  # registered for this class only
    status = status_of(error)
    if _wants_page(request):
        return _html(request, status, TITLES.get(status, "Error"), str(error))
    extra: dict[str, Any] = {}
    if isinstance(error, errors.InvalidInput):
        extra["errors"] = [
            FieldError(location=p.location, message=p.message) for p in error.problems
        ]
    if isinstance(error, errors.SafetyCheckFailed):
        extra["errors"] = [
            FieldError(location=p.location, message=p.message) for p in error.findings
        ]
        extra |= {"rules": list(error.rules), "overridable": error.overridable}
        if error.overridable:
            extra["how_to_override"] = HOW_TO_OVERRIDE
    return problem(status, type(error).__name__, str(error), **extra)


def _validation_error(request: Request, exception: Exception) -> Response:
    error = cast(RequestValidationError, exception)  # registered for this class only
    found = [
        FieldError(location=_location(e.get("loc", ())), message=e.get("msg", "invalid"))
        for e in error.errors()
    ]
    if _wants_page(request):
        listed = "; ".join(f"{e.location}: {e.message}" for e in found)
        detail = f"the request could not be read ({listed}); go back and try again"
        return _html(request, 400, "Bad request", detail)
    if any(e.get("type") == "json_invalid" for e in error.errors()):
        return problem(400, "MalformedJson", "the request body is not valid JSON", errors=found)
    listed = "; ".join(f"{e.location}: {e.message}" for e in found)
    return problem(
        422, "InvalidInput", f"invalid request ({len(found)} problems): {listed}", errors=found
    )


def _http_error(request: Request, exception: Exception) -> Response:
    error = cast(HTTPException, exception)  # registered for this class only
    if _wants_page(request):
        return _html(
            request, error.status_code, TITLES.get(error.status_code, "Error"), str(error.detail)
        )
    return problem(
        error.status_code,
        TITLES.get(error.status_code, "Error").replace(" ", ""),
        str(error.detail),
    )


def _database_error(request: Request, exception: Exception) -> Response:
    """A database too busy to do the work now: 503 with Retry-After (the transaction rolled back).

    Any other database failure is a defect, not a state to retry: it goes on to the server as a 500.
    """
    if not database_busy(exception):
        raise exception
    detail = (
        "the database is busy with other writes and nothing was saved; "
        f"try again in {RETRY_AFTER_SECONDS} seconds"
    )
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if _wants_page(request):
        response = _html(request, 503, TITLES[503], detail)
        response.headers.update(headers)
        return response
    return problem(503, "DatabaseBusy", detail, headers=headers)


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in loc if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _wants_page(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "html" in getattr(
        request.app.state, "error_pages", ""
    )


def _html(request: Request, status: int, title: str, detail: str) -> Response:
    renderer: HtmlRenderer = request.app.state.render_error
    return renderer(request, status, title, detail)


def install_error_handlers(app: FastAPI, *, render_error: HtmlRenderer | None = None) -> None:
    """Register the handlers: alscell errors, request validation, HTTP errors (404, 405), and a busy
    database (503).

    With ``render_error``, requests outside ``/api/`` get an error page instead of problem JSON.
    """
    app.state.error_pages = "html" if render_error else ""
    app.state.render_error = render_error
    app.add_exception_handler(errors.AlscellError, _alscell_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_error)
