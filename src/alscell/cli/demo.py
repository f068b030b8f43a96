"""``alscell demo``: the clinical scales core at work on a small sample of fictional patients.

Reads a ratings CSV (the packaged sample by default), scores each ALSFRS-R rating, computes ΔFS,
progressor category, King's and MiToS stages and the ENCALS prediction, and prints them with the
caveats a reader needs. Every problem in the file is reported with its row and column.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from alscell.cli.console import make_console, reported_errors
from alscell.domain import alsfrs, encals, progression, staging
from alscell.domain.months import months_between
from alscell.errors import InvalidImport, InvalidInput, Problem

SAMPLE = "demo-patients.csv"
_YES_NO = {"yes": True, "no": False}
_SITES = {"bulbar": True, "spinal": False}
_EL_ESCORIAL = ("definite", "probable", "probable-laboratory-supported", "possible", "suspected")
_DEFINITE = {category: category == "definite" for category in _EL_ESCORIAL}
_ITEM_COLUMNS = tuple(item.key for item in alsfrs.ITEMS)
_COLUMNS = ("patient", "age_at_onset_years", "site_of_onset", "el_escorial", "ftd", "onset_on",
            "diagnosis_on", "rated_on", "vital_capacity_percent", *_ITEM_COLUMNS)  # fmt: skip
_HORIZON_MONTHS = 12


@dataclass(frozen=True, slots=True)
class DemoPatient:
    """One row of the demo file: a patient's baseline facts and one ALSFRS-R rating."""

    code: str
    age_at_onset_years: float
    bulbar_onset: bool
    definite_el_escorial: bool
    ftd: bool
    onset_on: date
    diagnosis_on: date
    rated_on: date
    vital_capacity_percent: float
    items: Mapping[str, object]


def demo(
    ratings: Annotated[
        Path | None,
        typer.Option(help="A ratings CSV in the demo's format; default: the packaged sample."),
    ] = None,
) -> None:
    """Score a sample of fictional patients with the clinical scales core and print the results."""
    with reported_errors():
        if ratings is None:
            with resources.as_file(resources.files("alscell.cli") / "samples" / SAMPLE) as path:
                patients = read_patients(path)
        else:
            patients = read_patients(ratings)
        table = build_table(patients)
    console = make_console()
    console.print(table)
    for line in CAVEATS:
        console.print(f"- {line}")


CAVEATS = (
    "ΔFS assumes a linear fall from 48 at onset and predicts later decline only weakly (clinical.md §2).",
    "King's stage is estimated from ALSFRS-R (Balendra 2014): 2A and 2B cannot be told apart (§3).",
    "ENCALS: coefficient set without C9orf72, odds scale (the paper's scale is unverified, §5.4); "
    "ΔFS taken at the rating shown.",
    "A predicted median is a population figure: about half of patients live between half and twice "
    "it (Knibb 2016; §6). It is not a forecast for one person.",
    f"'{_HORIZON_MONTHS} mo later' is the predicted event-free probability {_HORIZON_MONTHS} months "
    "after the rating, given survival to the rating (§5.5).",
)


def build_table(patients: list[DemoPatient]) -> Table:
    """One row per patient with scores, stages and the ENCALS prediction."""
    table = Table(title="ALSFRS-R, staging and ENCALS prediction (fictional sample patients)")
    headers = ("patient", "rated", "ALSFRS-R", "B/FM/GM/R", "ΔFS /mo", "progressor", "King's",
               "MiToS", "ENCALS LP", "median mo", f"{_HORIZON_MONTHS} mo later")  # fmt: skip
    for header in headers:
        table.add_column(header, justify="left" if header in ("patient", "rated") else "right")
    problems: list[Problem] = []
    for patient in patients:
        try:
            table.add_row(*describe(patient))
        except InvalidInput as error:
            problems.extend(
                Problem(f"{patient.code}, {p.location}", p.message) for p in error.problems
            )
    if problems:
        raise InvalidInput(problems, subject="demo patients")
    return table


def describe(patient: DemoPatient) -> tuple[str, ...]:
    """The table cells for one patient."""
    result = alsfrs.score(patient.items)
    rate = progression.delta_fs(result.total, patient.onset_on, patient.rated_on)
    lp = encals.linear_predictor(
        age_at_onset_years=patient.age_at_onset_years,
        delta_fs=rate,
        diagnostic_delay_months=months_between(patient.onset_on, patient.diagnosis_on),
        vital_capacity_percent=patient.vital_capacity_percent,
        bulbar_onset=patient.bulbar_onset,
        definite_el_escorial=patient.definite_el_escorial,
        ftd=patient.ftd,
    )
    median = encals.median_survival_months(lp)
    survived = months_between(patient.onset_on, patient.rated_on)
    later = encals.conditional_survival(lp, survived + _HORIZON_MONTHS, survived)
    domains = "/".join(str(value) for value in result.domains.values())
    return (
        patient.code,
        patient.rated_on.isoformat(),
        f"{result.total}{' (5b)' if result.gastrostomy else ''}",
        domains,
        f"{rate:.2f}",
        str(progression.progressor_category(rate)),
        str(staging.kings_stage(patient.items)),
        str(staging.mitos_stage(patient.items)),
        f"{lp:.2f}",
        "not reached" if median is None else f"{median:.1f}",
        f"{later:.0%}",
    )


def read_patients(path: Path) -> list[DemoPatient]:
    """Read and check every row of a demo ratings CSV; raise one error listing every problem."""
    patients: list[DemoPatient] = []
    problems: list[Problem] = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row_number, row in _rows(handle, path.name, problems):
            where = f"{path.name}, row {row_number}"
            try:
                patients.append(_patient(row, where))
            except InvalidInput as error:
                problems.extend(error.problems)
    if problems:
        raise InvalidImport(problems, source=path.name)
    return patients


def _rows(
    handle: Iterator[str], name: str, problems: list[Problem]
) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(handle)
    missing = [column for column in _COLUMNS if column not in (reader.fieldnames or ())]
    if missing:
        problems.append(Problem(f"{name}, header", f"missing columns: {', '.join(missing)}"))
        return
    yield from enumerate(reader, start=2)  # row 1 is the header


def _patient(row: Mapping[str, str], where: str) -> DemoPatient:
    problems: list[Problem] = []
    fields = _Fields(row, where, problems)
    items: dict[str, object] = {}
    for key in _ITEM_COLUMNS:
        raw = (row.get(key) or "").strip()
        if raw:
            items[key] = int(raw) if raw.isdigit() else raw
    try:
        alsfrs.validate(items)
    except InvalidInput as error:
        problems.extend(Problem(f"{where}, column {p.location}", p.message) for p in error.problems)
    patient = DemoPatient(
        code=fields.text("patient"),
        age_at_onset_years=fields.number("age_at_onset_years"),
        bulbar_onset=fields.choice("site_of_onset", _SITES),
        definite_el_escorial=fields.choice("el_escorial", _DEFINITE),
        ftd=fields.choice("ftd", _YES_NO),
        onset_on=fields.day("onset_on"),
        diagnosis_on=fields.day("diagnosis_on"),
        rated_on=fields.day("rated_on"),
        vital_capacity_percent=fields.number("vital_capacity_percent"),
        items=items,
    )
    if problems:
        raise InvalidInput(problems)
    return patient


@dataclass
class _Fields:
    """Reads typed cells from one row, noting each problem with its row and column."""

    row: Mapping[str, str]
    where: str
    problems: list[Problem]

    def text(self, column: str) -> str:
        value = (self.row.get(column) or "").strip()
        if not value:
            self._problem(column, "must not be empty")
        return value

    def number(self, column: str) -> float:
        raw = self.text(column)
        try:
            return float(raw)
        except ValueError:
            if raw:
                self._problem(column, f"not a number: {raw!r}")
            return float("nan")

    def day(self, column: str) -> date:
        raw = self.text(column)
        try:
            return date.fromisoformat(raw)
        except ValueError:
            if raw:
                self._problem(column, f"not a date in YYYY-MM-DD form: {raw!r}")
            return date.min

    def choice(self, column: str, choices: Mapping[str, bool]) -> bool:
        raw = self.text(column).lower()
        if raw not in choices:
            if raw:
                self._problem(column, f"must be one of {', '.join(choices)}, got {raw!r}")
            return False
        return choices[raw]

    def _problem(self, column: str, message: str) -> None:
        self.problems.append(Problem(f"{self.where}, column {column}", message))
