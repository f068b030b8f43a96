"""The program report rendered (reports/render.py): HTML with every section, statement first; a PDF with
figures that are drawn.

The report is built once, on SQLite, from the five-patient cohort of tests/web/test_results_page.py
(fixed seed: the evaluation's default), identified and de-identified.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from markupsafe import escape
from matplotlib.image import imread

from alscell.domain.report import ProgramReport
from alscell.reports.render import SECTIONS, render_html, render_pdf
from alscell.services.reporting import program_report
from alscell.storage import migrate
from alscell.storage.session import make_engine, make_session_factory
from tests.web.test_results_page import build_cohort

CUTOFF = date(2026, 8, 15)
FIGURE_IDS = ("categories", "spaghetti", "waterfall", "outcome", "survival")


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[bool, ProgramReport]]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('report') / 'clinic.sqlite3'}")
    migrate.upgrade(engine)
    with make_session_factory(engine)() as session:
        cohort = build_cohort(session)
        yield {
            flag: program_report(
                session,
                protocol_id=cohort.c.protocol.id,
                by=cohort.c.physician,
                today=CUTOFF,
                deidentified=flag,
            )
            for flag in (False, True)
        }
    engine.dispose()


@pytest.fixture(scope="module")
def html(reports: dict[bool, ProgramReport]) -> str:
    return render_html(reports[False])


def test_every_section_is_there_in_order_the_statement_first(html):
    positions = [html.index(f'<h2 id="h-{key}">{heading}</h2>') for key, heading in SECTIONS]

    assert positions == sorted(positions)
    assert SECTIONS[0][0] == "statement"
    before = html[html.index("</h1>") : positions[0]]  # the h1 is the protocol's own title
    assert not re.search(r"\d", re.sub(r"<[^>]+>", " ", before)), (
        before
    )  # no number before the statement


def test_the_statement_and_numbers_come_from_the_evaluation(html, reports):
    evaluation = reports[False].evaluation

    for sentence in evaluation.statement:
        assert str(escape(sentence)) in html
    assert '<tr data-category="died"><th scope="row">died</th><td>1</td>' in html
    assert '<tr data-flow="enrolled"><th scope="row">Enrolled</th><td>5</td>' in html
    assert "Doe, Alex, 1964-05-17" in html
    assert f"Data cut-off</th><td>{CUTOFF}" in html


def test_the_html_is_self_contained(html):
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    for tag in ("<img", "<link", "<script", "<iframe"):
        assert tag not in html
    for figure in FIGURE_IDS:
        start = html.index(f'id="figure-{figure}"')
        assert html.index("<svg", start) < html.index("</figure>", start)
    assert html.count("<svg") == len(FIGURE_IDS)
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))  # figures do not share matplotlib's element ids


def test_a_report_without_power_says_why(reports):
    """When the power was not simulated, the section says so with the analyses' own reason."""
    report = reports[False]
    assert report.evaluation.analyses is not None
    reason = "power of this design: not simulated (0 simulations asked for)"
    analyses = dataclasses.replace(report.evaluation.analyses, power=(), notes=(reason,))
    without = dataclasses.replace(
        report, evaluation=dataclasses.replace(report.evaluation, analyses=analyses)
    )

    html = render_html(without)

    section = html[html.index('<section id="power">') :]
    assert f"Not computed: {reason}." in section[: section.index("</section>")]
    assert 'id="power-table"' not in html


def test_the_deidentified_report_has_no_names_and_no_patient_dates(reports):
    text = render_html(reports[True])
    table = text[text.index('id="patients-table"') : text.index('id="h-figures"')]

    for identifier in ("Doe", "Alex", "1964"):
        assert identifier not in text
    assert "day -26" in table  # the baseline on 2025-12-20, 26 days before the first dose
    assert not re.search(r"20\d\d-\d\d-\d\d", table)
    assert "De-identified" in text


def test_the_pdf_has_numbered_pages_and_drawn_figures(
    reports: dict[bool, ProgramReport], tmp_path: Path
) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(render_pdf(reports[False]))

    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE)[1])  # type: ignore[index]
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(path), str(tmp_path / "page")], check=True)
    images = sorted(tmp_path.glob("page-*.png"), key=lambda p: int(p.stem.split("-")[1]))

    assert len(images) == pages
    assert 5 <= pages <= 15  # five patients: about nine A4 pages
    assert all(_ink(imread(str(image))) > 0.005 for image in images)  # no blank page
    text = _page_text(path, pages)
    assert f"Page {pages} of {pages}" in text[-1]
    # The figures section starts a page with the ALSFRS-R courses chart below its heading.
    [first] = [i for i, page in enumerate(text) if re.search(r"^Figures$", page, re.MULTILINE)]
    pixels = imread(str(images[first]))
    height = pixels.shape[0]
    assert _ink(pixels[height // 10 : height // 2]) > 0.05, "the courses chart is blank"
    assert _ink(pixels[height // 10 : height // 2]) > 3 * _ink(
        pixels[height * 3 // 4 : height * 9 // 10]
    )


def _page_text(path: Path, pages: int) -> list[str]:
    return [
        subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), str(path), "-"], capture_output=True,
                       text=True, check=True).stdout
        for n in range(1, pages + 1)
    ]  # fmt: skip


def _ink(pixels: np.ndarray) -> float:
    """The share of pixels that are not white."""
    rgb = pixels[..., :3]
    return float(np.mean(np.any(rgb < 0.95, axis=-1)))
