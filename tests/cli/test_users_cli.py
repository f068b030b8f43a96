"""``alscell site|user|token``: the operator creates the first administrator, then everything else."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from alscell.cli import app

PASSWORD = "a long enough password\n"


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ALSCELL_DATABASE_URL", f"sqlite:///{tmp_path / 'ops.sqlite3'}")
    runner = CliRunner()

    def invoke(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(app, list(args), input=stdin)

    assert invoke("db", "upgrade").exit_code == 0
    return invoke


def test_the_first_user_must_be_an_administrator(run):
    result = run(
        "user",
        "add",
        "--username",
        "nina",
        "--full-name",
        "Nina",
        "--role",
        "nurse",
        "--password-stdin",
        stdin=PASSWORD,
    )

    assert result.exit_code == 1
    assert "--role: the first user must be an administrator" in result.stderr


def test_first_admin_then_site_users_and_tokens(run):
    first = run(
        "user",
        "add",
        "--username",
        "ada",
        "--full-name",
        "Ada",
        "--role",
        "admin",
        "--password-stdin",
        stdin=PASSWORD,
    )
    site = run("site", "add", "AMS", "Amsterdam clinic", "--by", "ada")
    nurse = run("user", "add", "--username", "nina", "--full-name", "Nina", "--role", "nurse", "--site", "AMS",
                "--by", "ada", "--password-stdin", stdin=PASSWORD)  # fmt: skip
    listed = run("user", "list")
    token = run("token", "create", "--username", "nina", "--name", "REDCap sync")

    assert (first.exit_code, site.exit_code, nurse.exit_code) == (0, 0, 0), nurse.output
    assert "user ada added (admin)" in first.stdout
    assert "ada  admin  site -  active" in listed.stdout
    assert "nina  nurse  site 1  active" in listed.stdout
    assert token.exit_code == 0
    assert token.stdout.startswith("alsc_")


def test_later_users_need_an_acting_administrator(run):
    run(
        "user",
        "add",
        "--username",
        "ada",
        "--full-name",
        "Ada",
        "--role",
        "admin",
        "--password-stdin",
        stdin=PASSWORD,
    )

    result = run(
        "user",
        "add",
        "--username",
        "mo",
        "--full-name",
        "Mo",
        "--role",
        "monitor",
        "--password-stdin",
        stdin=PASSWORD,
    )

    assert result.exit_code == 1
    assert "--by: name an administrator" in result.stderr


def test_a_short_password_is_refused(run):
    result = run(
        "user",
        "add",
        "--username",
        "ada",
        "--full-name",
        "Ada",
        "--role",
        "admin",
        "--password-stdin",
        stdin="short\n",
    )

    assert result.exit_code == 1
    assert "password: must be at least 12 characters" in result.stderr


def test_unknown_site_and_user_are_named(run):
    run(
        "user",
        "add",
        "--username",
        "ada",
        "--full-name",
        "Ada",
        "--role",
        "admin",
        "--password-stdin",
        stdin=PASSWORD,
    )

    no_site = run(
        "user",
        "add",
        "--username",
        "nina",
        "--full-name",
        "N",
        "--role",
        "nurse",
        "--site",
        "XYZ",
        "--by",
        "ada",
        "--password-stdin",
        stdin=PASSWORD,
    )
    no_user = run("token", "create", "--username", "ghost", "--name", "x")

    assert "site 'XYZ' was not found" in no_site.stderr
    assert "user 'ghost' was not found" in no_user.stderr
