"""What every request and response goes through before any route: limits, content types, headers.

- **Body size**: a body larger than ``Settings.max_request_bytes`` is refused with 413 before it is
  read — at once when ``Content-Length`` says so, or as soon as a streamed body passes the limit.
- **Address**: a path or query parameter holding a NUL character is refused with 400, naming it:
  PostgreSQL cannot store one in text, and fails on one even in a look-up.
- **Content type**: a request that may write (not GET, HEAD, OPTIONS) and carries a body must say
  what it is: JSON under ``/api/``, a form elsewhere; anything else is refused with 415. A
  cross-site form can therefore never reach the JSON API (browsers send JSON only after a CORS
  preflight, which alscell never grants).
- **Security headers** on every response: a Content-Security-Policy that allows no inline script,
  no framing (``frame-ancestors 'none'``, ``X-Frame-Options: DENY``), ``nosniff``, no referrer, no
  caching of what may hold patient data, and HSTS when the request came over HTTPS. The
  interactive API docs page alone may load Swagger UI from its CDN.

It is plain ASGI rather than Starlette's ``BaseHTTPMiddleware``, which costs a task per request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final
from urllib.parse import parse_qsl

from starlette.responses import PlainTextResponse

from alscell.services.records import NUL_RULE
from alscell.web.deps import SAFE_METHODS
from alscell.web.errors import problem

__all__ = ["API_DOCS_CDN", "CONTENT_SECURITY_POLICY", "Hardening"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
"""Scripts only from alscell's own files: no inline script, no ``eval``, no event-handler attributes.
Inline ``style`` attributes are allowed (they cannot run code)."""

API_DOCS_CDN: Final = "https://cdn.jsdelivr.net"
"""Where the interactive API docs page loads Swagger UI from (the one page allowed to)."""

_DOCS_POLICY: Final = CONTENT_SECURITY_POLICY.replace(
    "script-src 'self'", f"script-src 'self' {API_DOCS_CDN}"
).replace("style-src 'self'", f"style-src 'self' {API_DOCS_CDN}")

_HEADERS: Final = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
)
_HSTS: Final = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
_NO_STORE: Final = (b"cache-control", b"no-store")
_JSON: Final = ("application/json",)
_FORMS: Final = ("application/x-www-form-urlencoded", "multipart/form-data")


class _BodyGuard:
    """One request's body, counted as it arrives; past the limit the client gets 413 and the app is
    told the client has gone (so it stops reading, and whatever it answers goes nowhere)."""

    def __init__(
        self, receive: Receive, send: Send, limit: int, refuse: Callable[[], Awaitable[None]]
    ) -> None:
        self._receive, self._send, self._limit, self._refuse = receive, send, limit, refuse
        self._seen, self._started, self._refused = 0, False, False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] != "http.request" or self._refused:
            return {"type": "http.disconnect"} if self._refused else message
        self._seen += len(message.get("body", b""))
        if self._seen <= self._limit:
            return message
        self._refused = True
        if not self._started:
            await self._refuse()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if self._refused:
            return
        self._started = self._started or message["type"] == "http.response.start"
        await self._send(message)


class Hardening:
    """ASGI middleware: NUL in the address (400), body limit (413), content types (415), security
    headers on every response."""

    def __init__(self, app: App, *, max_body_bytes: int, docs_path: str) -> None:
        self.app, self.limit, self.docs_path = app, max_body_bytes, docs_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = self._with_headers(scope, send)
        refusal = self._refusal(scope)
        if refusal is not None:
            await _refuse(scope, receive, send, *refusal)
            return
        guard = _BodyGuard(
            receive, send, self.limit, lambda: _refuse(scope, receive, send, *self._too_large())
        )
        await self.app(scope, guard.receive, guard.send)

    def _refusal(self, scope: Scope) -> tuple[int, str, str] | None:
        nul = _nul_in_address(scope)
        if nul is not None:
            return 400, "BadRequest", f"{nul} {NUL_RULE}"
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit():
                return 400, "BadRequest", "the Content-Length header is not a number"
            if int(length) > self.limit:
                return self._too_large()
        if scope["method"] in SAFE_METHODS:
            return None
        has_body = (length is not None and int(length) > 0) or b"transfer-encoding" in headers
        if not has_body:
            return None
        media_type = headers.get(b"content-type", b"").decode("latin-1").split(";")[0]
        media_type = media_type.strip().lower()
        expected = _JSON if scope["path"].startswith("/api/") else _FORMS
        if media_type in expected or (expected is _JSON and media_type.endswith("+json")):
            return None
        shown = media_type or "none"
        wanted = " or ".join(expected)
        return (
            415,
            "UnsupportedMediaType",
            f"Content-Type {shown} is not accepted here: send {wanted}",
        )

    def _too_large(self) -> tuple[int, str, str]:
        return 413, "TooLarge", f"the request body is larger than the limit of {self.limit:,} bytes"

    def _with_headers(self, scope: Scope, send: Send) -> Send:
        path: str = scope["path"]
        policy = _DOCS_POLICY if path == self.docs_path else CONTENT_SECURITY_POLICY
        extra = [(b"content-security-policy", policy.encode()), *_HEADERS]
        if not path.startswith("/static/"):
            extra.append(_NO_STORE)
        if scope.get("scheme") == "https":
            extra.append(_HSTS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                added = [(name, value) for name, value in extra if name not in present]
                message["headers"] = [*message.get("headers", []), *added]
            await send(message)

        return send_with_headers


def _nul_in_address(scope: Scope) -> str | None:
    """Which part of the address holds a NUL character (None: none does)."""
    if "\x00" in scope["path"]:
        return "the path"
    query: bytes = scope.get("query_string", b"")
    if b"%00" not in query and b"\x00" not in query:  # the only ways a NUL can be sent
        return None
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    return next(
        (f"query parameter {name!r}" for name, value in pairs if "\x00" in name + value),
        "the query",
    )


async def _refuse(
    scope: Scope, receive: Receive, send: Send, status: int, code: str, detail: str
) -> None:
    """Refuse before any route ran: problem JSON for the API (as every API error), text for pages."""
    close = {"Connection": "close"}  # the rest of the body is never read
    response = (
        problem(status, code, detail, headers=close)
        if scope["path"].startswith("/api/")
        else PlainTextResponse(f"{detail}\n", status_code=status, headers=close)
    )
    await response(scope, receive, send)
