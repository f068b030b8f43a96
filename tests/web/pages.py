"""Helpers for page tests: sign in through the login form, read the CSRF token off a page, crawl the
pages a user can reach for the forms they post."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any, Final
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from alscell.services import auth
from alscell.storage.models import User
from alscell.web.pages import pages_router
from tests.factories import NOW

PASSWORD = "a long and private passphrase"


def browser(app: FastAPI, session: Session, user: User) -> TestClient:
    """A client signed in as ``user`` through the login form (cookie session)."""
    auth.set_password(session, user=user, password=PASSWORD, by=None, now=NOW)
    client = TestClient(app, follow_redirects=False)
    response = client.post(
        "/login",
        data={"username": user.username, "password": PASSWORD, "next": "/today",
              "csrf_token": csrf(client, "/login")},
    )  # fmt: skip
    assert response.status_code == 303, response.text
    return client


def csrf(client: TestClient, path: str = "/today") -> str:
    """The CSRF token the page at ``path`` puts in its forms."""
    page = client.get(path)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


def page_routes() -> list[APIRoute]:
    """Every page route (pages are left out of the OpenAPI document), through included routers."""

    def walk(routes: list[Any]) -> Iterator[APIRoute]:
        for route in routes:
            if isinstance(route, APIRoute):
                yield route
            elif hasattr(route, "original_router"):  # an included router
                yield from walk(route.original_router.routes)

    return list(walk(pages_router.routes))


MAX_PAGES: Final = 60
"""Pages crawled per user: bounded, so a crawl stays quick (every page kind is within reach)."""
SKIPPED: Final = (".pdf", "/logout", "/static/")


class _Page(HTMLParser):
    """The links and the posting forms of one page (action, and every named field with its value)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[tuple[str, dict[str, str]]] = []
        self._form: dict[str, str] | None = None
        self._action = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "a" and found.get("href", "").startswith("/"):
            self.links.append(found["href"])
        elif tag == "form" and found.get("method", "get").lower() == "post":
            self._form, self._action = {}, found.get("action", "")
        elif self._form is not None and tag in ("input", "select", "textarea") and "name" in found:
            unchecked = found.get("type") in ("checkbox", "radio") and "checked" not in found
            if not unchecked:
                self._form.setdefault(found["name"], found.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            self.forms.append((self._action, self._form))
            self._form = None


def crawl(client: TestClient) -> tuple[int, dict[str, dict[str, str]]]:
    """Pages visited from /today, and each posting form by its action (the first seen), with the
    values the page fills in."""
    queue, seen, forms = ["/today"], set[str](), dict[str, dict[str, str]]()
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen or any(part in path for part in SKIPPED):
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code != 200 or "text/html" not in response.headers["content-type"]:
            continue
        page = _Page()
        page.feed(response.text)
        for action, fields in page.forms:
            forms.setdefault(urlsplit(action).path or path, fields)
        queue += [urlsplit(link).path for link in page.links]
    return len(seen), forms
