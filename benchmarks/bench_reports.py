"""Benchmark: the program report, for the 15-patient demo program and a 10,000-patient cohort.

15 patients: the demo program (:func:`alscell.services.demo.run_demo`, daily care included) in a
temporary SQLite database, then the report as ``alscell report`` makes it: the data and evaluation
(:func:`alscell.services.reporting.program_report`), the HTML, and the PDF. 10,000 patients: the
synthetic cohort of :mod:`benchmarks.bench_evaluation`, evaluated by the domain, assembled into a
:class:`~alscell.domain.report.ProgramReport` (flow, baseline table, every patient's row and
trajectory, the natural-history band) and rendered as HTML. Times are printed; there is no target yet.
The rendered reports must state the evidence first and name every patient (checked).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alscell import __version__
from alscell.domain import evaluation as ev
from alscell.domain import report as rp
from alscell.domain.defaults import DEFAULT_SEED
from alscell.domain.months import months_between
from alscell.domain.stats.natural_history import NaturalHistoryModel
from alscell.reports.render import render_html, render_pdf
from alscell.services.demo import run_demo
from alscell.services.reporting import natural_history_band_for, program_report
from alscell.storage import migrate
from alscell.storage.comparator_files import builtin_natural_history, builtin_safety_reference
from alscell.storage.session import make_engine, make_session_factory
from benchmarks.bench_evaluation import cohort_evaluation
from benchmarks.common import CorrectnessError, Line, Measure, section_main, timed

LARGE = 10_000
QUICK_LARGE = 500
EVIDENCE_FIRST = '<section id="statement"'


def run(quick: bool) -> list[Line]:
    return [*_demo_program(quick), _large_html(QUICK_LARGE if quick else LARGE)]


def _demo_program(quick: bool) -> list[Line]:
    model, reference = builtin_natural_history(), builtin_safety_reference()
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'demo.sqlite3'}")
        migrate.upgrade(engine)
        try:
            with make_session_factory(engine)() as session:
                summary = run_demo(session, model=model, seed=DEFAULT_SEED, daily_care=not quick)
                data_seconds, report = timed(
                    lambda: program_report(
                        session,
                        protocol_id=summary.protocol_id,
                        by=None,
                        model=model,
                        today=summary.data_cutoff,
                        safety_reference=reference,
                        seed=DEFAULT_SEED,
                    )
                )
        finally:
            engine.dispose()
    html_seconds, html = timed(lambda: render_html(report))
    pdf_seconds, pdf = timed(lambda: render_pdf(report))
    _check_html(html, [p.study_code for p in summary.patients if p.doses_on])
    if not pdf.startswith(b"%PDF-"):
        raise CorrectnessError("the 15-patient PDF report is not a PDF")
    patients = f"{len(summary.patients)} patients (the demo program)"
    return [
        Line(what="report data and evaluation (database)", size=patients,
             alscell=Measure(data_seconds)),
        Line(what="report HTML", size=patients, alscell=Measure(html_seconds),
             detail=f"{len(html) / 1e3:,.0f} kB"),
        Line(what="report PDF (WeasyPrint)", size=patients, alscell=Measure(pdf_seconds),
             detail=f"{len(pdf) / 1e3:,.0f} kB"),
    ]  # fmt: skip


def _large_html(patients: int) -> Line:
    evaluate_seconds, (evaluation, courses, _protocol) = timed(lambda: cohort_evaluation(patients))
    model = builtin_natural_history()
    assemble_seconds, report = timed(lambda: _report(evaluation, courses, model))
    html_seconds, html = timed(lambda: render_html(report))
    _check_html(html, [course.study_code for course in courses])
    return Line(
        what="report HTML (synthetic cohort)",
        size=f"{patients:,} patients",
        alscell=Measure(html_seconds),
        detail=f"rendering only; evaluation {evaluate_seconds:.1f} s and assembly "
        f"{assemble_seconds:.1f} s before it; {len(html) / 1e6:,.1f} MB of HTML",
    )


def _report(
    evaluation: ev.Evaluation, courses: list[ev.PatientCourse], model: NaturalHistoryModel
) -> rp.ProgramReport:
    """The report of an evaluated synthetic cohort, as services.reporting assembles it from records."""
    first_doses = {c.patient_id: c.doses[0].given_on if c.doses else None for c in courses}
    trajectories = tuple(
        rp.Trajectory(
            study_code=c.study_code,
            months=tuple(months_between(c.doses[0].given_on, r.rated_on) for r in c.ratings),
            totals=tuple(r.total for r in c.ratings),
            treatment_months=months_between(c.doses[0].given_on, c.doses[-1].given_on),
        )
        for c in courses
        if c.ratings and c.doses
    )
    rows = tuple(
        rp.PatientRow(result=result, first_dose_on=first_doses[result.patient_id])
        for result in evaluation.patients
    )
    flow = rp.tally_flow(
        [rp.FlowRecord(screened=True, eligible=True, enrolled=True, treated=True) for _ in courses]
    )
    baseline = rp.summarise_baseline(
        [
            rp.BaselinePatient(
                age_years=None, sex=None, onset_site=None, months_onset_to_enrollment=None,
                alsfrs_r_total=c.ratings[0].total if c.ratings else None, delta_fs=None,
                vital_capacity_percent=None,
            )
            for c in courses
        ]
    )  # fmt: skip
    band = natural_history_band_for(evaluation, trajectories, model, evaluation.seed)
    provenance = rp.Provenance(
        data_cutoff=evaluation.data_cutoff, software_version=__version__,
        protocol=f"{evaluation.protocol_id} version {evaluation.protocol_version}",
        protocol_sha256="-",
        plan_version=evaluation.design.plan_version, plan_locked_on=evaluation.design.plan_locked_on,
        scale_versions=("ALSFRS-R",), natural_history_model=evaluation.model,
        safety_reference="-", seed=evaluation.seed, draws=evaluation.draws,
    )  # fmt: skip
    return rp.ProgramReport(
        title="Synthetic cohort (benchmark)", evaluation=evaluation, amendments=(), flow=flow,
        baseline=baseline, patients=rows, trajectories=trajectories, band=band,
        provenance=provenance, deidentified=True, notes=(),
    )  # fmt: skip


def _check_html(html: str, study_codes: list[str]) -> None:
    if EVIDENCE_FIRST not in html:
        raise CorrectnessError(f"the report has no section {EVIDENCE_FIRST!r}")
    missing = [code for code in study_codes if code not in html]
    if missing:
        raise CorrectnessError(
            f"{len(missing)} patients missing from the report, e.g. {missing[0]}"
        )


if __name__ == "__main__":
    section_main(run)
