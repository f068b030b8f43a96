"""``alscell synth``: every file, byte-identical reruns, refusal of a non-empty directory, alscell's
CSV format read back and imported, 100,000 patients."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from alscell.cli import app
from alscell.cli.synth import write_tables
from alscell.domain.months import DAYS_PER_MONTH
from alscell.domain.stats import synthetic as syn
from alscell.domain.stats.synthetic_items import ITEM_KEYS
from alscell.interop.csv.transfer import read_csv_dir, write_csv_dir
from alscell.interop.proact.tables import ALSFRS_ITEM_COLUMNS
from alscell.services import admin
from alscell.storage import migrate
from alscell.storage.comparator_files import builtin_natural_history
from alscell.storage.models import AlsfrsRating, Patient, Site
from alscell.storage.session import make_engine, make_session_factory
from tests.factories import NOW

ALSCELL_FILES = {"patients.csv", "diagnoses.csv", "alsfrs_ratings.csv", "vital_capacities.csv",
                 "outcome_events.csv"}  # fmt: skip
PROACT_FILES = {"PROACT_DEMOGRAPHICS.csv", "PROACT_ALSFRS.csv", "PROACT_FVC.csv",
                "PROACT_DEATHDATA.csv", "PROACT_ALSHISTORY.csv", "PROACT_ELESCORIAL.csv"}  # fmt: skip


@pytest.fixture(autouse=True)
def builtin_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALSCELL_NATURAL_HISTORY_FILE", raising=False)


def run(*args: str) -> Result:
    return CliRunner().invoke(app, ["synth", *args])


def files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_a_small_cohort_writes_every_file(tmp_path: Path) -> None:
    result = run("--patients", "40", "--seed", "5", "--out", str(tmp_path / "c"))

    assert result.exit_code == 0, result.output
    assert {p.name for p in (tmp_path / "c" / "alscell").iterdir()} == ALSCELL_FILES
    assert {p.name for p in (tmp_path / "c" / "proact").iterdir()} == PROACT_FILES
    with (tmp_path / "c" / "alscell" / "patients.csv").open(newline="") as file:
        assert {row["site_code"] for row in csv.DictReader(file)} == {"SYN"}
    assert len(read_csv_dir(tmp_path / "c" / "alscell").patients) == 40
    assert "40 patients, seed 5" in result.stdout
    assert "site SYN" in result.stdout
    assert "not evidence" in result.stdout


def test_the_same_seed_writes_byte_identical_files(tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert run("--patients", "60", "--seed", "9", "--effect", "0.3", "--months", "12",
                   "--out", str(tmp_path / name)).exit_code == 0  # fmt: skip
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert run("--patients", "60", "--seed", "10", "--out", str(tmp_path / "c")).exit_code == 0
    assert files(tmp_path / "a") != files(tmp_path / "c")


def test_a_non_empty_directory_is_refused_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    refused = run("--patients", "5", "--out", str(tmp_path))
    assert refused.exit_code == 1
    assert "not empty" in refused.output
    assert not (tmp_path / "alscell").exists()
    forced = run("--patients", "5", "--out", str(tmp_path), "--force")
    assert forced.exit_code == 0, forced.output
    assert (tmp_path / "keep.txt").read_text() == "mine"
    assert not list(tmp_path.rglob(".*.tmp"))


def test_bad_arguments_are_reported(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    assert "is a file" in run("--patients", "5", "--out", str(tmp_path / "file")).output
    bad_date = run("--patients", "5", "--start", "06/01/2020", "--out", str(tmp_path / "d"))
    assert bad_date.exit_code == 1
    assert "YYYY-MM-DD" in bad_date.output
    bad_site = run("--patients", "5", "--site-code", "syn 1", "--out", str(tmp_path / "e"))
    assert bad_site.exit_code == 1
    assert "--site-code" in bad_site.output
    assert "capital letters" in bad_site.output
    assert not (tmp_path / "e").exists()


def test_the_site_code_option_places_every_patient(tmp_path: Path) -> None:
    result = run("--patients", "12", "--site-code", "LON-2", "--out", str(tmp_path))

    assert result.exit_code == 0, result.output
    assert {p.site_code for p in read_csv_dir(tmp_path / "alscell").patients} == {"LON-2"}
    assert "site LON-2" in result.stdout


# ---------------------------------------------------------------- alscell's CSV format

START = date(2021, 5, 3)


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[syn.CohortChunk]]:
    """A cohort of 250 in chunks of 100, written by synth's writer to alscell's CSV format."""
    folder = tmp_path_factory.mktemp("synth") / "alscell"
    spec = syn.CohortSpec(patients=250, seed=21, start=START, chunk_size=100)
    chunks = list(syn.synthesize(builtin_natural_history(), spec))
    write_tables(iter(chunks), START, [(folder, syn.alscell_tables())])
    return folder, chunks


def on(days: int) -> date:
    return START + timedelta(days=days)


def test_read_csv_dir_reads_the_synthetic_cohort_as_simulated(
    synthesized: tuple[Path, list[syn.CohortChunk]],
) -> None:
    folder, chunks = synthesized
    dataset = read_csv_dir(folder)  # raises InvalidImport listing every problem

    assert {p.name for p in folder.iterdir()} == ALSCELL_FILES
    codes = [code for chunk in chunks for code in chunk.codes]
    assert [p.study_code for p in dataset.patients] == codes
    assert [d.study_code for d in dataset.diagnoses] == codes
    expected = []
    for chunk in chunks:
        patient, visit = np.nonzero(chunk.rated)
        totals = chunk.alsfrs[patient, visit].tolist()
        days = chunk.visit_days[visit].tolist()
        expected += [
            (chunk.codes[p], on(d), t) for p, d, t in zip(patient, days, totals, strict=True)
        ]
    assert [(r.study_code, r.rated_on, r.total) for r in dataset.alsfrs_ratings] == expected
    for rating in dataset.alsfrs_ratings:
        assert sum(rating.items().values()) == rating.total
        assert set(rating.items()) == set(ITEM_KEYS)
        assert (rating.q5b, rating.form) == (None, "clinician")
    baseline_plus_months = {on(round(m * DAYS_PER_MONTH)) for m in syn.DEFAULT_VISIT_MONTHS}
    assert {r.rated_on for r in dataset.alsfrs_ratings} == baseline_plus_months
    vc = [float(v) for chunk in chunks for v in chunk.vc[chunk.rated].tolist()]
    assert [c.percent_predicted for c in dataset.vital_capacities] == vc
    assert [c.measured_on for c in dataset.vital_capacities] == [
        r.rated_on for r in dataset.alsfrs_ratings
    ]


def test_the_synthetic_patients_diagnoses_and_events_are_the_simulated_ones(
    synthesized: tuple[Path, list[syn.CohortChunk]],
) -> None:
    folder, chunks = synthesized
    dataset = read_csv_dir(folder)

    patients = iter(dataset.patients)
    diagnoses = iter(dataset.diagnoses)
    events = {(e.study_code, e.kind): e for e in dataset.outcome_events}
    for chunk in chunks:
        for i, code in enumerate(chunk.codes):
            patient, diagnosis = next(patients), next(diagnoses)
            kind = syn.EVENTS[int(chunk.event[i])]
            assert (patient.site_code, patient.sex) == (
                "SYN",
                "male" if chunk.male[i] else "female",
            )
            assert patient.status == ("died" if kind is syn.Event.DEATH else "referred")
            assert patient.birth_year == on(int(chunk.birth_day[i])).year
            assert (diagnosis.onset_on, diagnosis.diagnosis_on) == (
                on(int(chunk.onset_day[i])), on(int(chunk.diagnosis_day[i])),
            )  # fmt: skip
            assert diagnosis.onset_site == ("bulbar" if chunk.bulbar[i] else "spinal")
            category = syn.EL_ESCORIAL[int(chunk.el_escorial[i])]
            assert diagnosis.el_escorial == syn.RECORDED_EL_ESCORIAL[category]
            assert (diagnosis.familial, diagnosis.ftd, diagnosis.c9orf72) == (False, False, None)
            if kind is not syn.Event.CENSORED:
                event = events.pop((code, kind.value))
                assert (event.occurred_on, event.source) == (
                    on(int(chunk.event_day[i])),
                    "synthetic",
                )
    assert not events  # no event for a censored patient


def test_the_files_are_what_alscell_export_csv_writes(
    synthesized: tuple[Path, list[syn.CohortChunk]], tmp_path: Path
) -> None:
    folder, _ = synthesized
    written = write_csv_dir(read_csv_dir(folder), tmp_path / "again")

    assert {p.name for p in written} == ALSCELL_FILES
    for path in written:
        assert path.read_bytes() == (folder / path.name).read_bytes(), path.name


def test_alscell_import_csv_loads_a_synthetic_cohort(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with make_session_factory(engine)() as session:
        boss = admin.create_first_admin(session, username="boss", full_name="Boss", now=NOW)
        admin.create_site(session, code="SYN", name="Synthetic patients", by=boss, now=NOW)
    assert run("--patients", "30", "--seed", "3", "--out", str(tmp_path / "c")).exit_code == 0
    monkeypatch.setenv("ALSCELL_DATABASE_URL", url)

    imported = CliRunner().invoke(
        app, ["import", "csv", str(tmp_path / "c" / "alscell"), "--by", "boss"]
    )

    assert imported.exit_code == 0, imported.output
    with (tmp_path / "c" / "alscell" / "alsfrs_ratings.csv").open(newline="") as file:
        ratings = sum(1 for _ in csv.DictReader(file))
    with make_session_factory(engine)() as session:
        counts = [
            session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Patient, AlsfrsRating)
        ]
        assert counts == [30, ratings]
        site_id = session.scalar(sa.select(Site.id).where(Site.code == "SYN"))
        assert set(session.scalars(sa.select(Patient.site_id))) == {site_id}
    engine.dispose()


def test_100000_patients_are_written_and_read_back(tmp_path: Path) -> None:
    result = run("--patients", "100000", "--seed", "1", "--out", str(tmp_path))

    assert result.exit_code == 0, result.output
    with (tmp_path / "proact" / "PROACT_ALSFRS.csv").open(newline="") as file:
        subjects = set()
        proact_totals = []
        for row in csv.DictReader(file):
            subjects.add(row["subject_id"])
            assert sum(int(row[c]) for c in ALSFRS_ITEM_COLUMNS) == int(row["ALSFRS_R_Total"])
            proact_totals.append(int(row["ALSFRS_R_Total"]))
    assert len(subjects) == 100_000
    with (tmp_path / "alscell" / "patients.csv").open(newline="") as file:
        assert sum(1 for _ in csv.DictReader(file)) == 100_000
    with (tmp_path / "alscell" / "alsfrs_ratings.csv").open(newline="") as file:
        totals = []
        for row in csv.DictReader(file):
            assert sum(int(row[key]) for key in ITEM_KEYS) == int(row["total"])
            totals.append(int(row["total"]))
    assert totals == proact_totals  # both formats hold the same ratings, in the same order
