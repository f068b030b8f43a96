"""Browser sessions under attack (web/pages/auth.py, web/pages/common.py, services/auth.py).

- CSRF: every form that posts, found by crawling the pages each role can reach, carries the session's
  token, and refuses a post without it or with a wrong one, changing nothing.
- The sign-in form has a token of its own (double-submit cookie).
- The session cookie is HttpOnly, SameSite=Strict, and Secure unless configured for plain http.
- Signing in issues a new secret and ends the old one; signing out ends it for good.
- Repeated failed sign-ins lock the username through the form as well, with a growing wait.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.dependencies.models import Dependant
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from alscell.config import Settings
from alscell.domain.access import Role
from alscell.services import auth
from alscell.storage.models import AuditEvent, LoginSession
from alscell.web.app import create_app
from alscell.web.deps import COOKIE
from alscell.web.pages.auth import LOGIN_CSRF_COOKIE
from alscell.web.pages.common import _writer
from tests.factories import NOW, make_user
from tests.web.conftest import set_clock
from tests.web.pages import PASSWORD, browser, crawl, csrf, page_routes


def _writes(session: Session) -> int:
    return int(session.execute(sa.select(sa.func.count()).select_from(AuditEvent)).scalar_one())


def test_every_form_carries_and_needs_the_csrf_token(app, session, seeded, figures):
    checked, pages = set[str](), 0
    for user in seeded.values():
        client = browser(app, session, user)
        token = csrf(client)
        visited, forms = crawl(client)
        pages += visited
        for action, fields in forms.items():
            if action in checked or action == "/logout":
                continue  # one check per form; signing out is checked below (it would end the crawl)
            assert fields.get("csrf_token") == token, f"the form posting to {action} has no token"
            before = _writes(session)
            missing = client.post(
                action, data={k: v for k, v in fields.items() if k != "csrf_token"}
            )
            wrong = client.post(action, data={**fields, "csrf_token": token[::-1]})
            assert (missing.status_code, wrong.status_code) == (403, 403), action
            assert _writes(session) == before, f"a refused post to {action} changed something"
            checked.add(action)
    logout = browser(app, session, seeded[Role.PHYSICIAN])
    assert logout.post("/logout", data={}).status_code == 403
    assert logout.get("/today").status_code == 200  # still signed in
    assert len(checked) >= 15  # the crawl reached the program's forms, not just a few
    figures.add("pages crawled", pages)
    figures.add("forms refused without a token", len(checked) + 1)
    figures.add("changes made by refused posts", 0)


def test_the_sign_in_form_needs_its_own_token(app, session, site):
    nurse = make_user(session, Role.NURSE, site=site)
    auth.set_password(session, user=nurse, password=PASSWORD, by=None, now=NOW)
    client = TestClient(app, follow_redirects=False)
    form = {"username": nurse.username, "password": PASSWORD, "next": "/today"}

    no_token = client.post("/login", data=form)  # another site posting its own credentials
    wrong = client.post("/login", data={**form, "csrf_token": csrf(client, "/login") + "x"})
    right = client.post("/login", data={**form, "csrf_token": csrf(client, "/login")})

    assert (no_token.status_code, wrong.status_code) == (403, 403)
    assert "security token" in no_token.text
    assert right.status_code == 303
    assert session.query(LoginSession).filter_by(user_id=nurse.id).count() == 1


def test_the_session_cookie_is_httponly_strict_and_secure_by_default(session, site, tmp_path):
    nurse = make_user(session, Role.NURSE, site=site)
    auth.set_password(session, user=nurse, password=PASSWORD, by=None, now=NOW)
    settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}")
    app = create_app(settings)  # production defaults
    from alscell.web import deps

    app.dependency_overrides[deps._session] = lambda: session
    client = TestClient(app, base_url="https://clinic.example", follow_redirects=False)
    page = client.get("/login")
    signed_in = client.post("/login", data={"username": nurse.username, "password": PASSWORD,
                                            "csrf_token": csrf(client, "/login")})  # fmt: skip
    api = client.post("/api/v1/auth/login", json={"username": nurse.username, "password": PASSWORD})

    for response, name in ((page, LOGIN_CSRF_COOKIE), (signed_in, COOKIE), (api, COOKIE)):
        cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(name))
        flags = {part.strip().lower() for part in cookie.split(";")}
        assert {"httponly", "secure", "samesite=strict"} <= flags, cookie
    app.state.engine.dispose()


def test_signing_in_rotates_the_session_and_ends_the_old_one(app, session, site):
    nurse = make_user(session, Role.NURSE, site=site)
    client = browser(app, session, nurse)
    first = client.cookies[COOKIE]

    again = client.post("/login", data={"username": nurse.username, "password": PASSWORD,
                                        "csrf_token": csrf(client, "/login")})  # fmt: skip
    second = client.cookies[COOKIE]
    stale = TestClient(app, cookies={COOKIE: first}, follow_redirects=False)

    assert again.status_code == 303
    assert second != first
    assert stale.get("/today").status_code == 303  # back to the sign-in page
    assert stale.get("/api/v1/auth/me").status_code == 401
    assert client.get("/today").status_code == 200
    ended = session.query(LoginSession).filter(LoginSession.ended_at.is_not(None)).count()
    assert ended == 1


def test_a_planted_session_id_is_worthless_after_sign_in(app, session, site):
    """Session fixation: a cookie set before signing in never becomes a signed-in session."""
    nurse = make_user(session, Role.NURSE, site=site)
    auth.set_password(session, user=nurse, password=PASSWORD, by=None, now=NOW)
    planted = "planted-by-someone-else"
    client = TestClient(app, cookies={COOKIE: planted}, follow_redirects=False)

    signed = client.post("/login", data={"username": nurse.username, "password": PASSWORD,
                                         "csrf_token": csrf(client, "/login")})  # fmt: skip

    assert signed.status_code == 303
    assert signed.cookies[COOKIE] != planted
    attacker = TestClient(app, cookies={COOKIE: planted}, follow_redirects=False)
    assert attacker.get("/today").status_code == 303


def test_signing_out_ends_the_session_everywhere(app, session, site):
    nurse = make_user(session, Role.NURSE, site=site)
    client = browser(app, session, nurse)
    secret = client.cookies[COOKIE]

    out = client.post("/logout", data={"csrf_token": csrf(client)})
    replayed = TestClient(app, cookies={COOKIE: secret}, follow_redirects=False)

    assert out.status_code == 303
    assert replayed.get("/today").status_code == 303
    assert replayed.get("/api/v1/auth/me").status_code == 401
    assert "auth.signed_out" in {e.action for e in session.query(AuditEvent)}


def test_the_api_sign_out_needs_the_csrf_token(app, session, site):
    nurse = make_user(session, Role.NURSE, site=site)
    auth.set_password(session, user=nurse, password=PASSWORD, by=None, now=NOW)
    client = TestClient(app)
    signed = client.post(
        "/api/v1/auth/login", json={"username": nurse.username, "password": PASSWORD}
    )

    without = client.post("/api/v1/auth/logout")
    with_token = client.post(
        "/api/v1/auth/logout", headers={"X-CSRF-Token": signed.json()["csrf_token"]}
    )

    assert without.status_code == 401
    assert with_token.status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 401


def test_the_sign_in_form_locks_a_username_after_repeated_failures(app, session, site, figures):
    nurse = make_user(session, Role.NURSE, site=site)
    auth.set_password(session, user=nurse, password=PASSWORD, by=None, now=NOW)
    client = TestClient(app, follow_redirects=False)

    def attempt(password: str) -> int:
        form = {
            "username": nurse.username,
            "password": password,
            "csrf_token": csrf(client, "/login"),
        }
        return client.post("/login", data=form).status_code

    failures = [attempt("wrong guess number") for _ in range(auth.FREE_FAILURES)]
    locked = client.post("/login", data={"username": nurse.username, "password": PASSWORD,
                                         "csrf_token": csrf(client, "/login")})  # fmt: skip
    set_clock(app, NOW + timedelta(minutes=1, seconds=1))  # the first lock lasts 2**0 minutes
    after_the_wait = attempt(PASSWORD)

    assert failures == [401] * auth.FREE_FAILURES
    assert locked.status_code == 401
    assert "too many failed sign-ins" in locked.text
    assert after_the_wait == 303
    refused = session.query(AuditEvent).filter_by(action="auth.sign_in_refused_locked").count()
    assert refused == 1
    figures.add("guesses before the lock", auth.FREE_FAILURES)


def _dependencies(dependant: Dependant) -> Iterator[object]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _dependencies(sub)


def test_every_page_route_that_posts_checks_the_csrf_token(figures):
    """The crawl finds the forms the pages show; this finds every route a form could post to."""
    posting = [route for route in page_routes()
               if (route.methods or set()) & {"POST", "PUT", "DELETE", "PATCH"}]  # fmt: skip
    unguarded = [route.path for route in posting
                 if route.path != "/login" and _writer not in set(_dependencies(route.dependant))]  # fmt: skip

    assert len(posting) >= 15
    assert unguarded == []
    figures.add("posting page routes guarded", len(posting))


def test_over_https_the_cookie_is_secure_even_when_configured_for_plain_http(app, session, site):
    nurse = make_user(session, Role.NURSE, site=site)
    auth.set_password(session, user=nurse, password=PASSWORD, by=None, now=NOW)
    assert app.state.settings.cookie_secure is False  # the test app is configured for plain http
    plain = TestClient(app).post(
        "/api/v1/auth/login", json={"username": nurse.username, "password": PASSWORD}
    )
    https = TestClient(app, base_url="https://clinic.example").post(
        "/api/v1/auth/login", json={"username": nurse.username, "password": PASSWORD}
    )

    assert "secure" not in plain.headers["set-cookie"].lower()
    assert "secure" in https.headers["set-cookie"].lower()


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "/\\evil.example", "/\\/evil.example", "https://evil.example",
               "/\t/evil.example", "/\n/evil.example", "evil.example"],
)  # fmt: skip
def test_sign_in_never_sends_the_browser_to_another_site(app, session, site, target):
    nurse = make_user(session, Role.NURSE, site=site)
    auth.set_password(session, user=nurse, password=PASSWORD, by=None, now=NOW)
    client = TestClient(app, follow_redirects=False)

    signed = client.post("/login", data={"username": nurse.username, "password": PASSWORD, "next": target,
                                         "csrf_token": csrf(client, "/login")})  # fmt: skip

    assert signed.status_code == 303
    assert signed.headers["location"] == "/today"
