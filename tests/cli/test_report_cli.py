"""``alscell report``: the program report written as HTML or PDF from a clinic's database file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from alscell.cli import app
from alscell.config import load_settings
from alscell.reports.render import SECTIONS
from alscell.services.audit import verify_trail
from alscell.storage.models import AuditEvent
from alscell.storage.session import make_engine, make_session_factory
from tests.cli.test_evaluate_cli import AFTER
from tests.cli.test_evaluate_cli import run as evaluate_run  # noqa: F401  (builds the database)


@pytest.fixture
def report(evaluate_run: Callable[..., Result]) -> Callable[..., Result]:  # noqa: F811
    """The database of tests/cli/test_evaluate_cli.py (two dosed patients, one rated at 6 months)."""
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, ["report", "--as-of", AFTER.isoformat(), *args])

    return invoke


def test_html_is_written_with_every_section(report: Callable[..., Result], tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "report.html"

    result = report("--out", str(out), "--deidentified")

    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    for key, heading in SECTIONS:
        assert f'<h2 id="h-{key}">{heading}</h2>' in text
    assert "De-identified" in text
    assert "Doe" not in text
    assert [p.name for p in out.parent.iterdir()] == [
        "report.html"
    ]  # no temporary file left behind


def test_pdf_is_written_atomically_over_an_old_file(
    report: Callable[..., Result], tmp_path: Path
) -> None:
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "report.pdf"
    out.write_bytes(b"old")

    result = report("--out", str(out), "--protocol", "als-nsc-4lp")

    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-")
    assert [p.name for p in out.parent.iterdir()] == ["report.pdf"]


@pytest.mark.parametrize(
    ("out", "message"),
    [("report.docx", "must end in .html or .pdf"), ("missing/report.html", "does not exist")],
)
def test_a_bad_out_is_named(
    report: Callable[..., Result], tmp_path: Path, out: str, message: str
) -> None:
    result = report("--out", str(tmp_path / out))

    assert result.exit_code == 1
    assert "--out" in result.stderr
    assert message in result.stderr
    assert not (tmp_path / out).exists()


def test_an_unknown_user_is_an_error(report: Callable[..., Result], tmp_path: Path) -> None:
    result = report("--out", str(tmp_path / "r.html"), "--by", "nobody")

    assert result.exit_code == 1
    assert "nobody" in result.stderr


def test_every_report_written_is_audited(report: Callable[..., Result], tmp_path: Path) -> None:
    """A report file is patient-level data leaving alscell: who, which format, identified or not."""
    html, pdf = tmp_path / "report.html", tmp_path / "report.pdf"

    assert report("--out", str(html), "--deidentified").exit_code == 0
    assert report("--out", str(pdf)).exit_code == 0

    engine = make_engine(load_settings().database_url)
    with make_session_factory(engine)() as session:
        issued = session.execute(
            sa.select(AuditEvent).where(AuditEvent.action == "report.issued").order_by(AuditEvent.id)
        ).scalars().all()  # fmt: skip
        assert verify_trail(session) == []
    engine.dispose()
    assert [event.entity_id.split()[-1] for event in issued] == ["HTML", "PDF"]
    assert "de-identified" in (issued[0].reason or "")
    assert "de-identified" not in (issued[1].reason or "")
