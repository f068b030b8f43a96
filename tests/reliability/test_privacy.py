"""De-identified outputs never carry a patient's identity, analysts never see one, every export is audited.

Patients are registered with names, record numbers and birth dates that cannot occur by chance. Then
every output alscell produces in de-identified mode is scanned for each of them, byte for byte and
decoded (HTML entities, PDF text, SAS transport read back): every export format the ``alscell export``
command offers (the list is read from the command, so a new format is not left out silently), the
program report as HTML and PDF, and every API route and page an analyst can reach. A birth date is
looked for in every way a file could write it. The birth *year* is allowed: de-identified data sets
carry it (docs/interop.md, docs/fhir.md), as they carry study codes and clinical dates.

Each scan is checked to find what it looks for: identified exports and reports, made by an
administrator, must show every value the de-identified ones must not.
"""

from __future__ import annotations

import html
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import unquote

import pyreadstat
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from alscell.cli import app as cli_app
from alscell.cli.interop import export_app
from alscell.domain.access import Role
from alscell.domain.adverse_events import Causality
from alscell.domain.dataset import ClinicalDataset
from alscell.errors import PermissionDenied
from alscell.interop.cdisc import write_odm, write_sdtm
from alscell.interop.csv import write_csv_dir
from alscell.interop.fhir import write_fhir
from alscell.interop.redcap import write_redcap
from alscell.reports.render import render_html, render_pdf
from alscell.services import assessments, auth, dosing, enrollment, patients, reporting, safety
from alscell.services.data_export import export_dataset
from alscell.storage.models import AuditEvent, Patient, User
from alscell.storage.session import make_session_factory
from tests.factories import NOW, make_user
from tests.services.scenario import (
    NORMAL_ITEMS,
    UNIT_IDS,
    Clinic,
    clear_bedside,
    clinic,
    dispensed,
    no_exclusions,
    released_units,
)
from tests.web.conftest import app_on
from tests.web.pages import browser, page_routes

TODAY = date(2026, 8, 15)  # after the 6-month window of a first dose on 2026-01-15
LATER = datetime(2026, 8, 15, 9, 30, tzinfo=UTC)
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")  # fmt: skip


@dataclass(frozen=True)
class Identity:
    """A patient's study code and what identifies them."""

    code: str
    given_name: str
    family_name: str
    birth_on: date
    mrn: str

    def values(self) -> tuple[str, ...]:
        """What must never appear in a de-identified output."""
        return (self.given_name, self.family_name, self.mrn, *birth_date_forms(self.birth_on))


IDENTITIES = (
    Identity("AMS-001", "Quillonia", "Vexbrandtova", date(1953, 10, 27), "MRN-QX7-40913"),
    Identity("AMS-002", "Zephyrinus", "Oxquarrelsen", date(1947, 12, 19), "ZK88217T"),
    Identity("AMS-003", "Ysoldwyna", "Threnbauchly", date(1961, 4, 30), "H-5528-0731-W"),
)
"""Enrolled and dosed, enrolled and dosed, registered only. Days above 12 so day-first and month-first
dates differ."""


def birth_date_forms(day: date) -> tuple[str, ...]:
    """A date as an export, a form or a report could write it."""
    month = MONTHS[day.month - 1]
    return (
        day.isoformat(), f"{day:%Y%m%d}", f"{day:%d/%m/%Y}", f"{day:%m/%d/%Y}", f"{day:%d.%m.%Y}",
        f"{day:%d-%m-%Y}", f"{day.year}-{day.month}-{day.day}", f"{day.day}/{day.month}/{day.year}",
        f"{day:%d}{month[:3]}{day.year}",  # SAS DATE9.
        f"{day.day} {month[:3]} {day.year}", f"{day.day} {month} {day.year}", f"{month} {day.day}, {day.year}",
        f"{month[:3]} {day.day}, {day.year}",
    )  # fmt: skip


ALL_VALUES = tuple(value for identity in IDENTITIES for value in identity.values())


@dataclass
class Scanner:
    """Looks for identifying values in outputs, in every reading of each (case does not matter)."""

    values: tuple[str, ...]
    folder: Path
    outputs: int = 0
    leaks: set[tuple[str, str]] = field(default_factory=set)

    def scan(self, name: str, content: bytes | str) -> set[str]:
        """The values found in ``content`` (also recorded as leaks under ``name``)."""
        self.outputs += 1
        texts = "\n".join(self._readings(name, content)).casefold()
        found = {value for value in self.values if value.casefold() in texts}
        if isinstance(content, bytes) and content.startswith(b"%PDF"):
            # a PDF breaks words over lines, with or without a hyphen: read its text without them too
            squashed = _squashed(
                "\n".join(self._pdf_text(content, layout) for layout in ("-raw", "-layout"))
            )
            found |= {value for value in self.values if _squashed(value) in squashed}
        self.leaks |= {(name, value) for value in found}
        return found

    def scan_folder(self, label: str, folder: Path) -> int:
        files = sorted(path for path in folder.rglob("*") if path.is_file())
        for path in files:
            self.scan(f"{label}/{path.relative_to(folder)}", path.read_bytes())
        return len(files)

    def _readings(self, name: str, content: bytes | str) -> Iterator[str]:
        raw = content.encode("utf-8") if isinstance(content, str) else content
        text = raw.decode("utf-8", errors="replace")
        yield text
        yield raw.decode("latin-1")
        yield html.unescape(text)
        yield unquote(text)
        if raw.startswith(b"%PDF"):
            yield self._pdf_text(raw, "-raw")
        if name.endswith(".xpt"):
            yield self._xpt_text(raw)

    def _pdf_text(self, pdf: bytes, layout: str) -> str:
        path = self.folder / f"scan-{self.outputs}.pdf"
        path.write_bytes(pdf)
        done = subprocess.run(
            ["pdftotext", layout, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
        )
        return done.stdout.decode("utf-8")

    def _xpt_text(self, xpt: bytes) -> str:
        path = self.folder / f"scan-{self.outputs}.xpt"
        path.write_bytes(xpt)
        frame, _ = pyreadstat.read_xport(str(path))
        return str(frame.to_csv(index=False))


def _squashed(text: str) -> str:
    """``text`` without white space and the hyphens a line break adds (U+2010, soft hyphen)."""
    return re.sub(r"[\s\u2010\u00ad]+", "", text).casefold()


@pytest.fixture
def scanner(tmp_path: Path) -> Scanner:
    folder = tmp_path / "scans"
    folder.mkdir()
    return Scanner(ALL_VALUES, folder)


# ---------------------------------------------------------------- the records


@dataclass
class Program:
    c: Clinic
    patients: dict[str, Patient]
    analyst: User
    ids: dict[str, int]


def _register(c: Clinic, identity: Identity) -> Patient:
    s, when = c.session, c.at(date(2025, 12, 20))
    patient = patients.register_patient(
        s, study_code=identity.code, site_id=c.site.id, given_name=identity.given_name, family_name=identity.family_name,
        birth_on=identity.birth_on, sex="female", mrn=identity.mrn, by=c.coordinator, now=when,
    )  # fmt: skip
    diagnosis = patients.DiagnosisInput(onset_on=date(2025, 3, 10), onset_site="spinal", diagnosis_on=date(2025, 11, 20),
                                        familial=False, el_escorial="probable")  # fmt: skip
    patients.record_diagnosis(
        s, patient_id=patient.id, diagnosis=diagnosis, by=c.physician, now=when
    )
    patients.record_consent(s, patient_id=patient.id, form_version="v2", consented_on=date(2025, 12, 20),
                            by=c.coordinator, now=when)  # fmt: skip
    return patient


def _treat(c: Clinic, patient: Patient, identity: Identity, unit_index: int) -> int:
    """Baseline, screening, enrollment, one implantation on day 10, the 6-month rating; the enrollment id."""
    s, when = c.session, c.at(date(2025, 12, 20))
    baseline = {**NORMAL_ITEMS, "q4": 3, "q8": 3}
    assessments.record_alsfrs_rating(s, patient_id=patient.id, rated_on=date(2025, 12, 20), items=baseline,
                                     by=c.nurse, now=when)  # fmt: skip
    assessments.record_vital_capacity(s, patient_id=patient.id, measured_on=date(2025, 12, 20), percent_predicted=85,
                                      by=c.nurse, now=when)  # fmt: skip
    assessments.record_weight(s, patient_id=patient.id, measured_on=date(2025, 12, 20), weight_kg=62, by=c.nurse,
                              now=when)  # fmt: skip
    for analyte, value in (("platelets", 210.0), ("inr", 1.0)):
        assessments.record_lab_result(s, patient_id=patient.id, collected_on=date(2025, 12, 20), analyte=analyte,
                                      value=value, by=c.nurse, now=when)  # fmt: skip
    enrollment.screen_patient(s, patient_id=patient.id, protocol_id=c.protocol.id, screened_on=date(2025, 12, 20),
                              exclusions=no_exclusions(), pre_puncture=clear_bedside().pre_puncture,
                              by=c.physician, now=when)  # fmt: skip
    e = enrollment.enroll(s, patient_id=patient.id, protocol_id=c.protocol.id, enrolled_on=date(2025, 12, 22),
                          by=c.physician, now=c.at(date(2025, 12, 22)))  # fmt: skip
    enrollment.start_treatment(s, enrollment_id=e.id, start_on=date(2026, 1, 5), by=c.physician,
                               now=c.at(date(2026, 1, 5)))  # fmt: skip
    dose_day = date(2026, 1, 15)
    dispensed(c, c.units[unit_index], patient, dose_day)
    dose = dosing.record_cell_dose(
        s, enrollment_id=e.id, unit_id=UNIT_IDS[unit_index], dose_cells=5e6, given_on=dose_day,
        bedside=clear_bedside(study_code=identity.code, birth_on=identity.birth_on), by=c.physician,
        now=c.at(dose_day),
    )  # fmt: skip
    safety.record_adverse_event(
        s, patient_id=patient.id, term="post-dural puncture headache", onset_on=date(2026, 1, 16), ctcae_grade=1,
        serious=False, seriousness=[], expected=True, causality_procedure=Causality.PROBABLE,
        causality_product=Causality.UNLIKELY, causality_drug=Causality.UNRELATED, aware_on=date(2026, 1, 16),
        enrollment_id=e.id, administration_id=dose.id, by=c.nurse, now=c.at(date(2026, 1, 16)),
    )  # fmt: skip
    later = {**NORMAL_ITEMS, "q4": 2, "q8": 3}
    assessments.record_alsfrs_rating(s, patient_id=patient.id, rated_on=date(2026, 7, 17), items=later, by=c.nurse,
                                     now=c.at(date(2026, 7, 17)))  # fmt: skip
    return e.id


def seed(session: Session) -> Program:
    """The seed program at one site: two patients treated, one registered only; an analyst of no site."""
    c = clinic(session)
    released_units(c, 2)
    found = {identity.code: _register(c, identity) for identity in IDENTITIES}
    enrollments = [_treat(c, found[i.code], i, n) for n, i in enumerate(IDENTITIES[:2])]
    analyst = make_user(session, Role.ANALYST, username="ana-lyst")
    first = found[IDENTITIES[0].code]
    screening = session.execute(
        sa.text("select id from screenings where patient_id = :p"), {"p": first.id}
    )
    event = session.execute(
        sa.text("select id from adverse_events where patient_id = :p"), {"p": first.id}
    )
    ids = {
        "patient_id": first.id, "enrollment_id": enrollments[0], "protocol_id": c.protocol.id,
        "unit_id": c.units[0].id, "lot_id": c.units[0].lot_id, "site_id": c.site.id, "user_id": c.nurse.id,
        "screening_id": int(screening.scalar_one()), "adverse_event_id": int(event.scalar_one()), "token_id": 1,
    }  # fmt: skip
    return Program(c, found, analyst, ids)


# ---------------------------------------------------------------- exports

Writer = Callable[[ClinicalDataset, Path], object]
WRITERS: dict[str, tuple[str, Writer]] = {
    "csv": ("alscell CSV", lambda data, out: write_csv_dir(data, out)),
    "fhir": ("FHIR R4B", lambda data, out: write_fhir(data, out)),
    "redcap": ("REDCap", lambda data, out: write_redcap(data, out)),
    "sdtm": ("CDISC SDTM", lambda data, out: write_sdtm(data, out, study_id="ALSCELL", xpt=True)),
    "odm": ("CDISC ODM", lambda data, out: write_odm(
        data, out / "study.xml", study_oid="ALSCELL", study_name="ALSCELL", protocol_name="als-nsc-4lp 1",
        created_at=NOW)),
}  # fmt: skip
"""Every ``alscell export`` format: (the purpose the command audits, the writer it calls)."""


def test_every_export_command_is_covered():
    commands = {command.name for command in export_app.registered_commands}

    assert commands == set(WRITERS)


def _export_all(scanner: Scanner, data: ClinicalDataset, folder: Path) -> dict[str, set[str]]:
    """Write ``data`` in every format; the values found in each format's files."""
    found: dict[str, set[str]] = {}
    for name, (_, write) in WRITERS.items():
        out = folder / name
        write(data, out)
        before = set(scanner.leaks)
        assert scanner.scan_folder(f"{folder.name}/{name}", out) > 0
        found[name] = {value for _, value in scanner.leaks - before}
    return found


def test_no_deidentified_export_or_report_carries_an_identity(session, tmp_path, scanner, figures):
    program = seed(session)
    admin = program.c.admin

    # the scanner finds what it looks for: an identified export names every patient in each format
    # that carries identities, and an identified report shows names and birth dates in HTML and PDF
    check = Scanner(ALL_VALUES, scanner.folder)
    identified = export_dataset(session, by=admin, now=NOW, purpose="check", identified=True)
    shown = _export_all(check, identified, tmp_path / "identified")
    for name in ("csv", "fhir", "redcap"):
        for identity in IDENTITIES:
            wanted = {
                identity.given_name,
                identity.family_name,
                identity.mrn,
                identity.birth_on.isoformat(),
            }
            assert wanted <= shown[name], (name, identity)
    report = reporting.program_report(
        session, protocol_id=program.c.protocol.id, by=admin, today=TODAY
    )
    for output in (render_html(report), render_pdf(report)):
        seen = check.scan("identified report", output)
        for identity in IDENTITIES[:2]:  # enrolled patients have a row
            assert {
                identity.given_name,
                identity.family_name,
                identity.birth_on.isoformat(),
            } <= seen

    # de-identified: the console, an analyst of no site, a monitor
    monitor = make_user(session, Role.MONITOR, username="moni")
    for label, by in (("console", None), ("analyst", program.analyst), ("monitor", monitor)):
        data = export_dataset(session, by=by, now=NOW, purpose=label)
        assert {record.study_code for record in data.patients} == {i.code for i in IDENTITIES}
        _export_all(scanner, data, tmp_path / label)
    # an analyst's report as the results page offers it is checked in the next test, PDF included
    for label, by in (("analyst", program.analyst), ("console", None)):
        report = reporting.program_report(session, protocol_id=program.c.protocol.id, by=by, today=TODAY,
                                          deidentified=True)  # fmt: skip
        assert {row.result.study_code for row in report.patients} == {
            i.code for i in IDENTITIES[:2]
        }
        scanner.scan(f"{label} report html", render_html(report))
        if by is not None:
            scanner.scan(f"{label} report pdf", render_pdf(report))

    figures.add("outputs scanned", scanner.outputs)
    figures.add("identifying values", len(ALL_VALUES))
    figures.add("self-check outputs", check.outputs)
    figures.add("leaks found", len(scanner.leaks))
    assert sorted(scanner.leaks) == []


# ---------------------------------------------------------------- what an analyst reaches


@pytest.fixture
def web(session: Session, tmp_path: Path) -> Iterator[FastAPI]:
    """The app on the test's session, its clock after the 6-month window."""
    with app_on(session, tmp_path, LATER) as application:
        yield application


def _get_paths(web: FastAPI, ids: dict[str, int]) -> list[str]:
    api = [f"/api/v1{path}" if not path.startswith("/api/") else path
           for path, operations in web.openapi()["paths"].items() if "get" in operations]  # fmt: skip
    pages = [route.path for route in page_routes() if "GET" in (route.methods or set())]
    assert "/results/{protocol_id}/report.pdf" in pages
    return [re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path) for path in api + pages]


def test_an_analyst_reaches_no_identity_through_the_api_or_the_pages(
    session, web, scanner, figures
):
    program = seed(session)
    token = auth.create_api_token(
        session, user=program.analyst, name="privacy", by=program.analyst, now=NOW
    )
    api = TestClient(web, headers={"Authorization": f"Bearer {token.secret}"})
    pages = browser(web, session, program.analyst)
    paths = _get_paths(web, program.ids)

    reached = []
    for path in paths:
        client = api if path.startswith("/api/") else pages
        response = client.get(path)
        scanner.scan(f"GET {path} ({response.status_code})", response.content)
        if response.status_code == 200:
            reached.append(path)

    # what an analyst is for: evaluations, results and reports
    protocol = program.ids["protocol_id"]
    for wanted in (
        f"/api/v1/evaluations/{protocol}",
        f"/results/{protocol}",
        f"/results/{protocol}/report.pdf",
    ):
        assert wanted in reached
    evaluation = api.get(f"/api/v1/evaluations/{protocol}").json()
    assert {p["study_code"] for p in evaluation["patients"]} == {i.code for i in IDENTITIES[:2]}
    # and not the patients: their pages and identities are refused
    assert api.get(f"/api/v1/patients/{program.ids['patient_id']}/identity").status_code == 403
    assert pages.get(f"/patients/{program.ids['patient_id']}").status_code == 403
    # the scanner finds an identity where one is shown (to a physician)
    issued = auth.create_api_token(
        session, user=program.c.physician, name="check", by=program.c.physician, now=NOW
    )
    physician = TestClient(web, headers={"Authorization": f"Bearer {issued.secret}"})
    shown = physician.get(f"/api/v1/patients/{program.ids['patient_id']}/identity")
    assert set(IDENTITIES[0].values()[:4]) <= Scanner(ALL_VALUES, scanner.folder).scan(
        "identity", shown.content
    )

    figures.add("routes called", len(paths))
    figures.add("routes reached", len(reached))
    figures.add("outputs scanned", scanner.outputs)
    figures.add("leaks found", len(scanner.leaks))
    assert sorted(scanner.leaks) == []


def test_an_identified_export_is_refused_to_an_analyst_in_every_format(session):
    program = seed(session)
    events = _count_events(session)

    for purpose, _ in WRITERS.values():
        with pytest.raises(PermissionDenied) as refused:
            export_dataset(session, by=program.analyst, now=NOW, purpose=purpose, identified=True)
        assert refused.value.user == program.analyst.username

    assert _count_events(session) == events  # a refusal writes nothing (the design audits changes)


def _count_events(session: Session) -> int:
    return int(session.execute(sa.select(sa.func.count()).select_from(AuditEvent)).scalar_one())


# ---------------------------------------------------------------- the audit trail


def _last_event(session: Session) -> AuditEvent:
    return session.execute(
        sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one()


def test_every_export_command_is_audited_with_who_what_and_scope(
    fresh_engine, tmp_path, monkeypatch
):
    with make_session_factory(fresh_engine)() as session:
        program = seed(session)
        analyst_id, site_analyst = (
            program.analyst.id,
            make_user(session, Role.ANALYST, site=program.c.site),
        )
        site_analyst_name, site_analyst_id = site_analyst.username, site_analyst.id
    monkeypatch.setenv(
        "ALSCELL_DATABASE_URL", fresh_engine.url.render_as_string(hide_password=False)
    )
    runner = CliRunner()

    for command, (purpose, _) in WRITERS.items():
        for username, user_id, scope in (("ana-lyst", analyst_id, "all sites"),
                                         (site_analyst_name, site_analyst_id, "site AMS")):  # fmt: skip
            out = tmp_path / f"{command}-{username}"
            target = out / "study.xml" if command == "odm" else out
            result = runner.invoke(
                cli_app, ["export", command, "--out", str(target), "--by", username]
            )
            assert result.exit_code == 0, result.output
            with make_session_factory(fresh_engine)() as session:
                event = _last_event(session)
            assert (event.action, event.entity_type, event.entity_id) == (
                "data.exported",
                "export",
                purpose,
            )
            assert event.actor_id == user_id
            assert event.reason is not None
            assert f"{purpose}; de-identified; {scope}; patients 3" in event.reason, event.reason
        if command in ("csv", "fhir", "redcap"):
            refused = runner.invoke(cli_app, ["export", command, "--out", str(tmp_path / f"no-{command}"),
                                              "--identified", "--by", "ana-lyst"])  # fmt: skip
            assert refused.exit_code == 1
            assert "identifying data" in refused.stderr


def test_a_report_download_is_audited_with_who_and_what(session, web):
    program = seed(session)
    protocol = program.ids["protocol_id"]
    for user, identity, suffix in ((program.analyst, "de-identified", "pdf"),
                                   (program.c.physician, "identified", "html")):  # fmt: skip
        response = browser(web, session, user).get(f"/results/{protocol}/report.{suffix}")
        assert response.status_code == 200

        event = _last_event(session)
        assert (event.action, event.entity_type) == ("report.issued", "report")
        assert event.actor_id == user.id
        assert event.entity_id == f"als-nsc-4lp v{program.c.protocol.version} {suffix.upper()}"
        assert event.reason == (
            f"program report {suffix.upper()}; {identity}; patients 2; data cut-off {TODAY.isoformat()}"
        )
