"""Helpers for page tests: sign in through the login form, read the CSRF token off a page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

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
