"""``alscell synth``: every file, byte-identical reruns, refusal of a non-empty directory, 100,000 patients."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from alscell.cli import app
from alscell.interop.proact.tables import ALSFRS_ITEM_COLUMNS

ALSCELL_FILES = {"patients.csv", "ratings.csv", "vital_capacity.csv", "outcomes.csv"}
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
        assert len(list(csv.DictReader(file))) == 40
    assert "40 patients, seed 5" in result.stdout
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


def test_100000_patients_are_written_and_read_back(tmp_path: Path) -> None:
    result = run("--patients", "100000", "--seed", "1", "--out", str(tmp_path))

    assert result.exit_code == 0, result.output
    with (tmp_path / "proact" / "PROACT_ALSFRS.csv").open(newline="") as file:
        subjects = set()
        for row in csv.DictReader(file):
            subjects.add(row["subject_id"])
            assert sum(int(row[c]) for c in ALSFRS_ITEM_COLUMNS) == int(row["ALSFRS_R_Total"])
    assert len(subjects) == 100_000
    with (tmp_path / "alscell" / "patients.csv").open(newline="") as file:
        assert sum(1 for _ in csv.DictReader(file)) == 100_000
