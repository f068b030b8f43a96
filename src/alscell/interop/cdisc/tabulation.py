"""What every SDTM dataset shares: subject keys, ISO 8601 dates, study days, sequence numbers, SUPP--.

Study day (SDTMIG 3.3 §4.4.4): with RFSTDTC the reference, ``--DY = date - RFSTDTC + 1`` on or after
it and ``date - RFSTDTC`` before it, so the first dose is day 1, the day before is day -1 and there
is no day 0. Without RFSTDTC (a subject never dosed) every --DY is blank.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import TypeAlias

from alscell.interop.cdisc.domains import DOMAINS, SUPP_LABELS

__all__ = ["Context", "Draft", "Row", "Value", "finish", "format_number", "study_day"]

Value: TypeAlias = str | int | float | None
Row: TypeAlias = dict[str, Value]


def study_day(on: date, reference: date) -> int:
    """SDTM study day of ``on`` counted from ``reference`` (day 1); there is no day 0."""
    delta = (on - reference).days
    return delta + 1 if delta >= 0 else delta


def format_number(value: float) -> str:
    """A number as written in --ORRES: integers without a decimal point, others as Python's repr."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass(frozen=True, slots=True)
class Draft:
    """A row before its sequence number, with its supplemental qualifiers (QNAM, QVAL)."""

    row: Row
    supp: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Context:
    """The study, each subject's reference start date (RFSTDTC) and the zone that times are written in."""

    study_id: str
    reference_on: Mapping[str, date]
    tz: tzinfo

    def usubjid(self, study_code: str) -> str:
        """USUBJID: the study identifier and the study code, joined by a hyphen."""
        return f"{self.study_id}-{study_code}"

    def keys(self, domain: str, study_code: str) -> Row:
        """STUDYID, DOMAIN and USUBJID of a row."""
        return {"STUDYID": self.study_id, "DOMAIN": domain, "USUBJID": self.usubjid(study_code)}

    def day(self, study_code: str, on: date | datetime | None) -> int | None:
        """The study day of ``on`` for this subject, or None without a date or a reference."""
        reference = self.reference_on.get(study_code)
        if on is None or reference is None:
            return None
        if isinstance(on, datetime):
            on = on.astimezone(self.tz).date()
        return study_day(on, reference)

    def dtc(self, value: date | datetime | None) -> str | None:
        """ISO 8601 date, or date and time to the second in :attr:`tz` (without an offset)."""
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.astimezone(self.tz).replace(tzinfo=None).isoformat(timespec="seconds")
        return value.isoformat()


def finish(domain: str, drafts: Iterable[Draft], *, by: str) -> tuple[list[Row], list[Row]]:
    """Rows of ``domain`` in variable order, sorted by subject then ``by``, numbered per subject.

    Returns the rows and their SUPP-- rows (IDVAR = --SEQ). ``by`` is the date variable to sort on;
    rows on the same date keep the order they were drafted in.
    """
    dataset = DOMAINS[domain]
    ordered = sorted(
        drafts, key=lambda draft: (str(draft.row["USUBJID"]), str(draft.row[by] or ""))
    )
    rows: list[Row] = []
    supp: list[Row] = []
    seq_name = f"{domain}SEQ"
    counters: dict[str, int] = {}
    for draft in ordered:
        usubjid = str(draft.row["USUBJID"])
        counters[usubjid] = counters.get(usubjid, 0) + 1
        values = draft.row | {seq_name: counters[usubjid]}
        rows.append({name: values.get(name) for name in dataset.names})
        supp.extend(_qualifiers(domain, values, draft.supp, seq_name))
    return rows, supp


def _qualifiers(
    domain: str, row: Row, qualifiers: Iterable[tuple[str, str]], seq_name: str
) -> Iterable[Row]:
    for qnam, qval in qualifiers:
        yield {
            "STUDYID": row["STUDYID"], "RDOMAIN": domain, "USUBJID": row["USUBJID"],
            "IDVAR": seq_name, "IDVARVAL": str(row[seq_name]), "QNAM": qnam,
            "QLABEL": SUPP_LABELS[qnam], "QVAL": qval, "QORIG": "CRF", "QEVAL": None,
        }  # fmt: skip
