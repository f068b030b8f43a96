"""PRO-ACT rows to validated values: one row (column name → text) in, values or every problem out.

Pure: no files, no database. Each ``from_*_row`` function checks every cell of one row and raises
:class:`~alscell.errors.InvalidImport` listing every problem, each located as
``"PROACT_ALSFRS.csv row 17 column Q3_Swallowing"``; the caller supplies ``where`` (file and row).
Columns are those alscell's writer uses (:mod:`alscell.interop.proact.tables`) and those of the
PRO-ACT download (items 5b and the original ALSFRS item 10, ``ALSFRS_Total``); their names follow the
PRO-ACT data dictionary as cited by public code and were not checked against the current dictionary.

Rules (docs/proact.md): times are whole days (``12`` or ``12.0``) within ±36,525 days (100 years);
items are whole numbers 0-4 (clinical.md §1.1); exactly one of item 5a or 5b; an ALSFRS-R row has all
three respiratory items ``R_1``..``R_3`` and its total, when given, is the sum of its 12 items (0-48);
a row with ``Q10_Respiratory`` and no ``R_`` item is the original ALSFRS (total 0-40, from
``ALSFRS_Total``, also the sum of its 10 items).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final, NamedTuple

from alscell.domain.alsfrs import MAX_ITEM_SCORE, MAX_TOTAL
from alscell.domain.comparator import FvcRecord, OnsetSite, RatingForm, RatingRecord
from alscell.errors import InvalidImport, Problem

__all__ = [
    "ALSFRS_R_ITEMS",
    "DEMOGRAPHICS",
    "HISTORY",
    "ITEM_COLUMNS",
    "MAX_DELTA_DAYS",
    "ORIGINAL_ITEM_10",
    "Death",
    "Demographics",
    "History",
    "from_alsfrs_row",
    "from_death_row",
    "from_demographics_row",
    "from_fvc_row",
    "from_history_row",
]

MAX_DELTA_DAYS: Final = 36_525
"""Largest time from trial start accepted, in days (100 years): anything beyond is a typing error."""
MAX_AGE_YEARS: Final = 120.0
MAX_FVC_PERCENT: Final = 300.0
ORIGINAL_MAX_TOTAL: Final = 40
SUBJECT_ID_MAX_LENGTH: Final = 40
DAYS_PER_YEAR: Final = 365.25

DEMOGRAPHICS: Final = "PROACT_DEMOGRAPHICS.csv"
HISTORY: Final = "PROACT_ALSHISTORY.csv"

ITEM_COLUMNS: Final = {
    "q1": "Q1_Speech", "q2": "Q2_Salivation", "q3": "Q3_Swallowing", "q4": "Q4_Handwriting",
    "q6": "Q6_Dressing_and_Hygiene", "q7": "Q7_Turning_in_Bed", "q8": "Q8_Walking",
    "q9": "Q9_Climbing_Stairs",
}  # fmt: skip
"""Items scored in both forms, by the key alscell stores them under."""
Q5A: Final = "Q5a_Cutting_without_Gastrostomy"
Q5B: Final = "Q5b_Cutting_with_Gastrostomy"
ALSFRS_R_ITEMS: Final = {
    "q10": "R_1_Dyspnea",
    "q11": "R_2_Orthopnea",
    "q12": "R_3_Respiratory_Insufficiency",
}
ORIGINAL_ITEM_10: Final = "Q10_Respiratory"
SEXES: Final = {"male": "male", "female": "female", "m": "male", "f": "female"}
ONSETS: Final = {
    "bulbar": OnsetSite.BULBAR, "limb": OnsetSite.SPINAL, "spine": OnsetSite.SPINAL,
    "spinal": OnsetSite.SPINAL, "limb and bulbar": OnsetSite.BULBAR_AND_SPINAL,
    "bulbar and limb": OnsetSite.BULBAR_AND_SPINAL, "other": OnsetSite.OTHER,
}  # fmt: skip
YES_NO: Final = {"yes": True, "no": False}


class Demographics(NamedTuple):
    subject_id: str
    sex: str | None
    age_years: float | None


class History(NamedTuple):
    subject_id: str
    onset_site: str | None
    onset_delta_days: int | None
    diagnosis_delta_days: int | None


class Death(NamedTuple):
    subject_id: str
    died: bool | None
    death_days: int | None


class _Cells:
    """Reads the cells of one row, collecting a problem for each bad one."""

    def __init__(self, row: Mapping[str, str | None], where: str) -> None:
        self.row, self.where, self.problems = row, where, list[Problem]()

    def text(self, column: str) -> str:
        return (self.row.get(column) or "").strip()

    def problem(self, column: str, message: str) -> None:
        self.problems.append(Problem(f"{self.where} column {column}", message))

    def subject(self) -> str:
        subject = self.text("subject_id")
        if not subject or len(subject) > SUBJECT_ID_MAX_LENGTH:
            self.problem(
                "subject_id", f"must be 1 to {SUBJECT_ID_MAX_LENGTH} characters, got {subject!r}"
            )
        return subject

    def number(self, column: str, low: float, high: float) -> float | None:
        """The cell as a number within low..high, None when empty."""
        text = self.text(column)
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (low <= value <= high):  # NaN fails too
            self.problem(column, f"must be a number from {low:g} to {high:g}, got {text!r}")
            return None
        return value

    def whole(
        self, column: str, low: int, high: int, *, required: bool, what: str = ""
    ) -> int | None:
        """The cell as a whole number within low..high; None when empty (a problem if required)."""
        text = self.text(column)
        if not text:
            if required:
                self.problem(
                    column, f"is empty; needs {what or 'a whole number'} from {low} to {high}"
                )
            return None
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (low <= value <= high and value == int(value)):
            self.problem(
                column, f"must be {what or 'a whole number'} from {low} to {high}, got {text!r}"
            )
            return None
        return int(value)

    def delta(self, column: str, *, required: bool) -> int | None:
        return self.whole(column, -MAX_DELTA_DAYS, MAX_DELTA_DAYS, required=required,
                          what="whole days from trial start")  # fmt: skip

    def item(self, column: str, *, required: bool = True) -> int | None:
        return self.whole(column, 0, MAX_ITEM_SCORE, required=required, what="an item score")

    def choice(
        self, column: str, choices: Mapping[str, object], *, strip: str = ""
    ) -> object | None:
        text = self.text(column)
        key = text.lower().removeprefix(strip).strip()
        if not text:
            return None
        if key not in choices:
            self.problem(column, f"must be one of {', '.join(sorted(choices))}, got {text!r}")
        return choices.get(key)

    def done(self) -> None:
        if self.problems:
            raise InvalidImport(self.problems, source=self.where)


def from_demographics_row(row: Mapping[str, str | None], *, where: str) -> Demographics:
    """Sex and age at trial start (``Age``, else whole years from ``Date_of_Birth``, a negative delta)."""
    cells = _Cells(row, where)
    subject = cells.subject()
    sex = cells.choice("Sex", SEXES)
    age = cells.number("Age", 0.0, MAX_AGE_YEARS)
    if age is None and not cells.text("Age"):
        birth = cells.whole("Date_of_Birth", -MAX_DELTA_DAYS, 0, required=False,
                            what="days from trial start (negative)")  # fmt: skip
        age = float(math.floor(-birth / DAYS_PER_YEAR)) if birth is not None else None
    cells.done()
    return Demographics(subject, str(sex) if sex else None, age)


def from_history_row(row: Mapping[str, str | None], *, where: str) -> History:
    """Site of onset (``Onset: Bulbar``, ``Onset: Limb``, ...), onset and diagnosis deltas."""
    cells = _Cells(row, where)
    subject = cells.subject()
    site = cells.choice("Site_of_Onset", ONSETS, strip="onset:")
    onset = cells.delta("Onset_Delta", required=False)
    diagnosis = cells.delta("Diagnosis_Delta", required=False)
    if onset is not None and diagnosis is not None and diagnosis < onset:
        cells.problem(
            "Diagnosis_Delta", f"diagnosis (day {diagnosis}) comes before onset (day {onset})"
        )
    cells.done()
    return History(subject, str(site) if site else None, onset, diagnosis)


def from_death_row(row: Mapping[str, str | None], *, where: str) -> Death:
    """Whether the subject died (``Yes``/``No``) and the day of death (may be empty)."""
    cells = _Cells(row, where)
    subject = cells.subject()
    died = cells.choice("Subject_Died", YES_NO)
    days = cells.delta("Death_Days", required=False)
    if days is not None and died is False:
        cells.problem("Death_Days", f"is {days} but Subject_Died is {cells.text('Subject_Died')!r}")
    cells.done()
    return Death(subject, bool(died) if died is not None else None, days)


def from_fvc_row(row: Mapping[str, str | None], *, where: str) -> FvcRecord:
    """Forced vital capacity, % predicted of the first trial (empty when only litres were given)."""
    cells = _Cells(row, where)
    subject = cells.subject()
    delta = cells.delta("Forced_Vital_Capacity_Delta", required=True)
    percent = cells.number("pct_of_Normal_Trial_1", 0.0, MAX_FVC_PERCENT)
    cells.done()
    assert delta is not None
    return FvcRecord(subject, delta, percent)


def from_alsfrs_row(row: Mapping[str, str | None], *, where: str) -> RatingRecord:
    """One ALSFRS-R rating (``R_1``..``R_3`` given) or original ALSFRS rating (``Q10_Respiratory``)."""
    cells = _Cells(row, where)
    subject = cells.subject()
    delta = cells.delta("ALSFRS_Delta", required=True)
    items = {key: cells.item(column) for key, column in ITEM_COLUMNS.items()}
    items |= _item_5(cells)
    if any(cells.text(column) for column in ALSFRS_R_ITEMS.values()):
        form, total = RatingForm.ALSFRS_R, _alsfrs_r(cells, items)
    elif cells.text(ORIGINAL_ITEM_10):
        form, total = RatingForm.ALSFRS, _original(cells, items)
    else:
        cells.problem(ALSFRS_R_ITEMS["q10"], "a rating needs R_1_Dyspnea, R_2_Orthopnea and "
                      f"R_3_Respiratory_Insufficiency (ALSFRS-R) or {ORIGINAL_ITEM_10} (original ALSFRS)")  # fmt: skip
        form, total = RatingForm.ALSFRS_R, None
    cells.done()
    assert delta is not None
    assert total is not None
    values = {key: items.get(key) for key in ("q10", "q11", "q12")}
    return RatingRecord(subject, delta, form.value, items["q1"] or 0, items["q2"] or 0,
                        items["q3"] or 0, items["q4"] or 0, items["q5a"], items["q5b"],
                        items["q6"] or 0, items["q7"] or 0, items["q8"] or 0, items["q9"] or 0,
                        values["q10"] or 0, values["q11"], values["q12"], total)  # fmt: skip


def _item_5(cells: _Cells) -> dict[str, int | None]:
    """Item 5a or 5b: exactly one is scored (5b with a gastrostomy; clinical.md §1.1)."""
    given = [column for column in (Q5A, Q5B) if cells.text(column)]
    if len(given) != 1:
        cells.problem(Q5A, f"exactly one of {Q5A} and {Q5B} must be scored (5b with a gastrostomy, "
                      f"clinical.md §1.1), got {len(given)}")  # fmt: skip
    return {"q5a": cells.item(Q5A, required=False), "q5b": cells.item(Q5B, required=False)}


def _alsfrs_r(cells: _Cells, items: dict[str, int | None]) -> int | None:
    for key, column in ALSFRS_R_ITEMS.items():
        items[key] = cells.item(column)
    return _total(cells, items, "ALSFRS_R_Total", MAX_TOTAL, "ALSFRS-R", 12)


def _original(cells: _Cells, items: dict[str, int | None]) -> int | None:
    items["q10"] = cells.item(ORIGINAL_ITEM_10)
    return _total(cells, items, "ALSFRS_Total", ORIGINAL_MAX_TOTAL, "original ALSFRS", 10)


def _total(
    cells: _Cells, items: dict[str, int | None], column: str, most: int, scale: str, count: int
) -> int | None:
    """The total given in ``column`` (or the items' sum when empty), which must be the items' sum."""
    before = len(cells.problems)
    given = cells.whole(column, 0, most, required=False, what=f"an {scale} total")
    if len(cells.problems) > before:
        return None
    scored = [value for value in items.values() if value is not None]
    if len(scored) != count or len(cells.problems) > 0:
        return given  # an item is bad or missing: its own problem says so
    total = sum(scored)
    if given is not None and given != total:
        cells.problem(column, f"{scale} total {given} is not the sum of the {count} items ({total}; "
                      "clinical.md §1.1)")  # fmt: skip
    return total
