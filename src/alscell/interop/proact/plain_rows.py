"""Quick parsers for PRO-ACT rows of plain cells, the common case, giving what :mod:`.mapping` gives.

Checking a million rows cell by cell through :mod:`alscell.interop.proact.mapping` was most of an
import's time. A *plain* parser, made once per file from its header, reads a row's cells by position
and returns the very record the ``from_*_row`` function of :mod:`.mapping` returns, but only for a row
it sees at a glance to pass every rule of that function: item scores written exactly ``0`` to ``4``,
whole numbers that ``int()`` reads (``float()``, which the rules use, reads them alike) within their
range, a total equal to the items' sum or empty, a choice spelled as the rules know it or empty. For
any other row it returns None, and the row goes through :mod:`.mapping`, which accepts it or names
every problem: the rules and their messages stay there, in one place. Pure, like :mod:`.mapping`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Final, TypeVar

from alscell.domain.alsfrs import MAX_ITEM_SCORE
from alscell.domain.comparator import FvcRecord, RatingForm, RatingRecord
from alscell.interop.proact import mapping as m

__all__ = [
    "Plain",
    "plain_alsfrs",
    "plain_death",
    "plain_demographics",
    "plain_fvc",
    "plain_history",
]

T = TypeVar("T")
Plain = Callable[[Sequence[str]], T | None]
"""A row's fields (in header order) to its record, or None when the row needs the full check."""
Cell = Callable[[Sequence[str]], str]

SCORES: Final = {str(score): score for score in range(MAX_ITEM_SCORE + 1)}
ONSETS: Final = {key: str(site) for key, site in m.ONSETS.items()}
ALSFRS_R: Final = RatingForm.ALSFRS_R.value


def _never(_fields: Sequence[str]) -> None:
    return None


def _empty(_fields: Sequence[str]) -> str:
    return ""


def _cells(header: Sequence[str]) -> Callable[[str], Cell]:
    """A column's cell getter; a missing column reads as empty, as in :mod:`.mapping`."""
    positions = _positions(header)

    def cell(column: str) -> Cell:
        position = positions.get(column)
        return _empty if position is None else itemgetter(position)

    return cell


def _positions(header: Sequence[str]) -> dict[str, int]:
    # The last of a repeated name wins, as in the dict of cells by column that mapping reads.
    return {column: i for i, column in enumerate(header)}


def _subject(text: str) -> str | None:
    text = text.strip()
    return text if 0 < len(text) <= m.SUBJECT_ID_MAX_LENGTH else None


def _plain(subject: str, day: int) -> bool:
    """Whether a (stripped) subject and a day pass their rules."""
    return (
        0 < len(subject) <= m.SUBJECT_ID_MAX_LENGTH and -m.MAX_DELTA_DAYS <= day <= m.MAX_DELTA_DAYS
    )


def _integer(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _delta(text: str) -> int | None:
    """Whole days from trial start within ±100 years, written as an integer."""
    value = _integer(text)
    return value if value is not None and -m.MAX_DELTA_DAYS <= value <= m.MAX_DELTA_DAYS else None


def _number(text: str, high: float) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0.0 <= value <= high else None  # NaN fails too


# ---------------------------------------------------------------- visits


def plain_alsfrs(header: Sequence[str]) -> Plain[RatingRecord]:
    """ALSFRS-R rows with plain item scores (items 1-4, one of 5a/5b, 6-9, R1-R3) and total."""
    cell, positions = _cells(header), _positions(header)
    columns = (*m.ITEM_COLUMNS.values(), *m.ALSFRS_R_ITEMS.values())  # items 1-4, 6-9, 10-12
    if not all(column in positions for column in columns):
        return _never  # the original ALSFRS (or a file that lacks an item): always the full check
    subject, delta, total = cell("subject_id"), cell("ALSFRS_Delta"), cell("ALSFRS_R_Total")
    q5a, q5b = cell(m.Q5A), cell(m.Q5B)
    items: Callable[[Sequence[str]], tuple[str, ...]] = itemgetter(*(positions[c] for c in columns))
    score = SCORES.__getitem__

    def parse(fields: Sequence[str]) -> RatingRecord | None:
        try:
            q1, q2, q3, q4, q6, q7, q8, q9, q10, q11, q12 = scores = list(map(score, items(fields)))
            day = int(delta(fields))
        except (KeyError, ValueError):
            return None
        five = _item_5(q5a(fields), q5b(fields))
        name, given = subject(fields).strip(), total(fields)
        if five is None or not _plain(name, day):
            return None
        summed = sum(scores) + five[2]
        if given and _integer(given) != summed:
            return None
        return RatingRecord(name, day, ALSFRS_R, q1, q2, q3, q4, five[0], five[1],
                            q6, q7, q8, q9, q10, q11, q12, summed)  # fmt: skip

    return parse


def _item_5(cutting: str, with_gastrostomy: str) -> tuple[int | None, int | None, int] | None:
    """(5a, 5b, the one scored) when exactly one of them is a plain score."""
    if not with_gastrostomy and cutting in SCORES:
        return SCORES[cutting], None, SCORES[cutting]
    if not cutting and with_gastrostomy in SCORES:
        return None, SCORES[with_gastrostomy], SCORES[with_gastrostomy]
    return None


def plain_fvc(header: Sequence[str]) -> Plain[FvcRecord]:
    """FVC rows with a plain delta and a % predicted in range (or empty)."""
    cell = _cells(header)
    subject, delta = cell("subject_id"), cell("Forced_Vital_Capacity_Delta")
    percent = cell("pct_of_Normal_Trial_1")

    def parse(fields: Sequence[str]) -> FvcRecord | None:
        try:
            day = int(delta(fields))
        except ValueError:
            return None
        name, text = subject(fields).strip(), percent(fields)
        value = _number(text, m.MAX_FVC_PERCENT) if text else None
        if not _plain(name, day) or (text and value is None):
            return None
        return FvcRecord(name, day, value)

    return parse


# ---------------------------------------------------------------- subjects


def plain_demographics(header: Sequence[str]) -> Plain[m.Demographics]:
    """Demographics rows with a known sex (or none) and a plain age or birth delta (or neither)."""
    cell = _cells(header)
    subject, sex, age, birth = (cell(c) for c in ("subject_id", "Sex", "Age", "Date_of_Birth"))

    def parse(fields: Sequence[str]) -> m.Demographics | None:
        name, sex_text, (plain, years) = (
            _subject(subject(fields)),
            sex(fields),
            _age(age, birth, fields),
        )
        known = m.SEXES.get(sex_text.lower()) if sex_text else None
        if name is None or (sex_text and known is None) or not plain:
            return None
        return m.Demographics(name, known, years)

    return parse


def _age(age: Cell, birth: Cell, fields: Sequence[str]) -> tuple[bool, float | None]:
    """(plain, years): the age from ``Age``, else from the birth delta, else None."""
    if age_text := age(fields):
        years = _number(age_text, m.MAX_AGE_YEARS)
        return years is not None, years
    if not (birth_text := birth(fields)):
        return True, None
    day = _integer(birth_text)
    if day is None or not -m.MAX_DELTA_DAYS <= day <= 0:
        return False, None
    return True, float(math.floor(-day / m.DAYS_PER_YEAR))


def plain_history(header: Sequence[str]) -> Plain[m.History]:
    """History rows with a known site of onset (or none) and plain deltas in order (or empty)."""
    cell = _cells(header)
    subject, site, onset, diagnosis = (
        cell(c) for c in ("subject_id", "Site_of_Onset", "Onset_Delta", "Diagnosis_Delta")
    )

    def parse(fields: Sequence[str]) -> m.History | None:
        name, site_text = _subject(subject(fields)), site(fields)
        known = ONSETS.get(site_text.lower().removeprefix("onset:").strip()) if site_text else None
        onset_text, diagnosis_text = onset(fields), diagnosis(fields)
        onset_day = _delta(onset_text) if onset_text else None
        diagnosis_day = _delta(diagnosis_text) if diagnosis_text else None
        if (name is None or (site_text and known is None) or (onset_text and onset_day is None)
                or (diagnosis_text and diagnosis_day is None)):  # fmt: skip
            return None
        if onset_day is not None and diagnosis_day is not None and diagnosis_day < onset_day:
            return None
        return m.History(name, known, onset_day, diagnosis_day)

    return parse


def plain_death(header: Sequence[str]) -> Plain[m.Death]:
    """Death rows with Yes, No (or nothing) and a plain day of death (none after No)."""
    cell = _cells(header)
    subject, died, days = cell("subject_id"), cell("Subject_Died"), cell("Death_Days")

    def parse(fields: Sequence[str]) -> m.Death | None:
        name, died_text, days_text = _subject(subject(fields)), died(fields), days(fields)
        dead = m.YES_NO.get(died_text.lower()) if died_text else None
        day = _delta(days_text) if days_text else None
        if name is None or (died_text and dead is None) or (days_text and day is None):
            return None
        if day is not None and dead is False:
            return None
        return m.Death(name, dead, day)

    return parse
