"""Signing in (web/api/auth.py, services/auth.py): passwords, cookies, CSRF, tokens, lockout."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from alscell.domain.access import Role
from alscell.errors import InvalidInput, NotSignedIn
from alscell.services import auth
from alscell.storage.models import AuditEvent
from alscell.web.deps import COOKIE
from tests.factories import NOW, make_user

PASSWORD = "correct horse battery"


@pytest.fixture
def nurse(session, site):
    user = make_user(session, Role.NURSE, site=site, username="nina")
    auth.set_password(session, user=user, password=PASSWORD, by=None, now=NOW)
    return user


def login(client: TestClient, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/login", json={"username": "nina", "password": password})


def test_sign_in_sets_an_httponly_strict_cookie_and_returns_a_csrf_token(client, nurse, session):
    response = login(client)

    assert response.status_code == 200, response.text
    assert response.json()["user"]["username"] == "nina"
    cookie = response.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert session.query(AuditEvent).filter_by(action="auth.signed_in").count() == 1


def test_the_cookie_signs_in_reads_but_writes_need_the_csrf_token(client, nurse):
    csrf = login(client).json()["csrf_token"]

    assert client.get("/api/v1/auth/me").json()["username"] == "nina"
    without = client.post("/api/v1/auth/tokens", json={"name": "laptop"})
    with_token = client.post(
        "/api/v1/auth/tokens", json={"name": "laptop"}, headers={"X-CSRF-Token": csrf}
    )

    assert without.status_code == 401
    assert "X-CSRF-Token" in without.json()["detail"]
    assert with_token.status_code == 201


def test_a_wrong_password_is_401_with_one_message_for_user_and_password(client, nurse, session):
    wrong_password = login(client, "not the password")
    wrong_user = client.post(
        "/api/v1/auth/login", json={"username": "nobody", "password": PASSWORD}
    )

    assert wrong_password.status_code == wrong_user.status_code == 401
    assert wrong_password.json()["detail"] == wrong_user.json()["detail"]
    assert wrong_password.headers["content-type"] == "application/problem+json"
    assert session.query(AuditEvent).filter_by(action="auth.sign_in_failed").count() == 2


def test_repeated_failures_lock_the_username_with_growing_backoff(session, nurse):
    for _ in range(auth.FREE_FAILURES):
        with pytest.raises(NotSignedIn):
            auth.sign_in(session, username="nina", password="wrong", now=NOW)
    # the 5th failure locked it for 2**0 = 1 minute: even the right password is refused now
    with pytest.raises(NotSignedIn, match="too many failed sign-ins"):
        auth.sign_in(session, username="nina", password=PASSWORD, now=NOW + timedelta(seconds=30))
    # after the minute: one more failure locks for 2 minutes
    with pytest.raises(NotSignedIn, match="wrong username or password"):
        auth.sign_in(
            session, username="nina", password="wrong", now=NOW + timedelta(minutes=1, seconds=1)
        )
    with pytest.raises(NotSignedIn, match="too many"):
        auth.sign_in(
            session, username="nina", password=PASSWORD, now=NOW + timedelta(minutes=2, seconds=30)
        )

    signed = auth.sign_in(
        session, username="nina", password=PASSWORD, now=NOW + timedelta(minutes=3, seconds=2)
    )
    assert signed.user.username == "nina"


def test_logout_ends_the_session(client, nurse):
    csrf = login(client).json()["csrf_token"]

    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 401


def test_an_expired_session_is_refused(session, nurse):
    issued = auth.sign_in(session, username="nina", password=PASSWORD, now=NOW)

    with pytest.raises(NotSignedIn, match="the session has ended"):
        auth.user_for_session(session, issued.secret, now=NOW + auth.SESSION_LIFETIME)


def test_tokens_are_shown_once_listed_without_secret_and_revoked(client, caller):
    nina = caller(Role.NURSE)

    created = nina.post("/api/v1/auth/tokens", json={"name": "script"})
    listed = nina.get("/api/v1/auth/tokens")
    revoked = nina.delete(f"/api/v1/auth/tokens/{created.json()['id']}")
    with_revoked = client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {created.json()['token']}"}
    )

    assert created.status_code == 201
    assert created.json()["token"].startswith("alsc_")
    assert all("token" not in item for item in listed.json())
    assert revoked.json()["revoked_at"] is not None
    assert with_revoked.status_code == 401


def test_another_users_token_is_not_found(caller):
    nina, otto = caller(Role.NURSE), caller(Role.NURSE)
    token_id = nina.post("/api/v1/auth/tokens", json={"name": "mine"}).json()["id"]

    assert otto.delete(f"/api/v1/auth/tokens/{token_id}").status_code == 404


@pytest.mark.parametrize("header", ["Basic abc", "Bearer ", "Bearer alsc_not-a-token"])
def test_bad_authorization_headers_are_401(client, header):
    response = client.get("/api/v1/auth/me", headers={"Authorization": header})

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_no_credentials_is_401(client):
    assert client.get("/api/v1/patients").status_code == 401


def test_passwords_are_checked(session, nurse):
    with pytest.raises(InvalidInput) as caught:
        auth.set_password(session, user=nurse, password="nina-short", by=None, now=NOW)

    assert [p.message for p in caught.value.problems] == [
        "must be at least 12 characters",
        "must not contain the username",
    ]


def test_a_disabled_user_cannot_sign_in(session, nurse):
    nurse.active = False
    session.flush()

    with pytest.raises(NotSignedIn):
        auth.sign_in(session, username="nina", password=PASSWORD, now=NOW)
