"""The program report as one self-contained HTML page (figures as inline SVG) and as a PDF (WeasyPrint).

Both render the same :class:`~alscell.domain.report.ProgramReport`; the evidence statement comes first,
before any number, as on the Results page. Nothing here queries or computes a statistic.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final

import jinja2

from alscell.domain.evaluation import KNOWN, Category
from alscell.domain.report import ProgramReport
from alscell.reports.figures import (
    category_chart,
    outcome_chart,
    spaghetti_chart,
    survival_chart,
    to_svg,
    waterfall_chart,
)

__all__ = ["SECTIONS", "render_html", "render_pdf"]

SECTIONS: Final = (
    ("statement", "What these results can and cannot show"),
    ("summary", "Program and protocol"),
    ("flow", "Flow of patients"),
    ("baseline", "Baseline characteristics"),
    ("outcomes", "Outcomes beside natural history"),
    ("patients", "Each patient"),
    ("figures", "Figures"),
    ("safety", "Safety"),
    ("deviations", "Deviations and overrides"),
    ("power", "Power of this design"),
    ("provenance", "Provenance"),
)
"""The report's sections in order: (id, heading)."""

_ID: Final = re.compile(r'\bid="([^"]+)"')
_HREF: Final = re.compile(r'href="#([^"]+)"')
_URL: Final = re.compile(r"url\(#([^)]+)\)")
_ENVIRONMENT: Final = jinja2.Environment(
    loader=jinja2.PackageLoader("alscell.reports", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(report: ProgramReport) -> str:
    """The report as one HTML document with its stylesheet and figures inline."""
    template = _ENVIRONMENT.get_template("program_report.html")
    analyses = report.evaluation.analyses
    power_notes = [note for note in analyses.notes if "power" in note] if analyses else []
    return template.render(
        report=report, e=report.evaluation, sections=dict(SECTIONS), figures=_figures(report),
        categories=list(Category), known=KNOWN, patient_date=_patient_date, power_notes=power_notes,
    )  # fmt: skip


def render_pdf(report: ProgramReport) -> bytes:
    """The report as a PDF (A4, numbered pages), through WeasyPrint."""
    # Imported here: it loads system libraries the web pages never need. No type information ships with it.
    import weasyprint

    pdf: bytes = weasyprint.HTML(string=render_html(report)).write_pdf()
    return pdf


def _figures(report: ProgramReport) -> dict[str, str | None]:
    """Each figure as inline SVG, or None when there is nothing to draw."""
    e = report.evaluation
    with_change = any(p.change is not None for p in e.patients)
    with_difference = any(
        p.change is not None and p.expected_change is not None for p in e.patients
    )
    survival = e.analyses.survival if e.analyses else None
    drawn = {
        "spaghetti": to_svg(spaghetti_chart(report.trajectories, report.band, time_point_months=e.time_point.months))
        if report.trajectories else None,
        "outcome": to_svg(outcome_chart(e)) if with_change else None,
        "waterfall": to_svg(waterfall_chart(e)) if with_difference else None,
        "survival": to_svg(survival_chart(survival)) if survival else None,
        "categories": to_svg(category_chart(e)) if e.cohort.known else None,
    }  # fmt: skip
    return {name: _scoped(svg, name) if svg else None for name, svg in drawn.items()}


def _scoped(svg: str, prefix: str) -> str:
    """The SVG with its ids (and references to them) prefixed, so that figures on one page cannot share
    an id (matplotlib numbers elements and glyphs per figure)."""
    svg = _ID.sub(lambda m: f'id="{prefix}-{m[1]}"', svg)
    svg = _HREF.sub(lambda m: f'href="#{prefix}-{m[1]}"', svg)
    return _URL.sub(lambda m: f"url(#{prefix}-{m[1]})", svg)


def _patient_date(day: date | None, origin: date | None, deidentified: bool) -> str:
    """A patient's date as written: the date, or in a de-identified report days from their first dose."""
    if day is None:
        return "\N{EN DASH}"
    if not deidentified:
        return day.isoformat()
    return "[date]" if origin is None else f"day {(day - origin).days:+d}"
