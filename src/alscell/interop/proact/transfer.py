"""Read a directory of PRO-ACT CSV tables as batches of comparator rows, checking every row.

:class:`ProactReader` opens ``PROACT_DEMOGRAPHICS.csv``, ``PROACT_ALSHISTORY.csv`` and
``PROACT_DEATHDATA.csv`` (one row per subject, merged), then streams ``PROACT_ALSFRS.csv`` and
``PROACT_FVC.csv`` with the csv module in chunks of :data:`CHUNK_ROWS` rows. Only the ALSFRS file is
required. Its :meth:`~ProactReader.batches` feed
:func:`alscell.services.comparators.import_comparator_cohort` (the command line joins the two: interop
never imports storage, not even through a service).

Checks, each problem naming file, row (the header is row 1) and column:

- a file: UTF-8 with or without a byte-order mark (UTF-16 or Latin-1 is refused), not empty, a header
  with every required column, ending with a line break (else its last line may be cut);
- a row: as many fields as the header, then every cell (:mod:`alscell.interop.proact.mapping`), a
  subject known to the demographics file when there is one, no second row with the same subject (and,
  for ratings and FVC, the same delta) in one file: the first such row is kept.

Speed: a row whose cells are plain (``3``, not ``3.0`` or `` 3``; see
:mod:`alscell.interop.proact.plain_rows`) is parsed by position into the same record, without building
a dict of its cells or a list of problems; any other row, and so every bad one, takes the full check of
:mod:`alscell.interop.proact.mapping`, which names its problems.

File problems always stop the import. Row problems stop it too unless ``skip_bad_rows``, when the bad
rows are left out and their problems kept for the summary. Either way at most :data:`MAX_LISTED`
problems are listed, with the number of the rest. When the import stops, the last batch raises
:class:`~alscell.errors.InvalidImport`, so a service iterating the batches commits nothing.

Memory stays bounded: rows are dropped once yielded; duplicates are found with one integer per row
(subject number × 73,051 + delta), and subjects are held once, as short tuples.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

from alscell.domain.comparator import ComparatorBatch, FvcRecord, RatingRecord, SubjectRecord
from alscell.errors import InvalidImport, Problem
from alscell.interop.proact import mapping as m
from alscell.interop.proact import plain_rows as quick

__all__ = [
    "ALSFRS",
    "CHUNK_ROWS",
    "DEATH",
    "FILES",
    "FVC",
    "MAX_LISTED",
    "REQUIRED_COLUMNS",
    "ImportSummary",
    "ProactReader",
]

DEMOGRAPHICS: Final = m.DEMOGRAPHICS
HISTORY: Final = m.HISTORY
DEATH: Final = "PROACT_DEATHDATA.csv"
ALSFRS: Final = "PROACT_ALSFRS.csv"
FVC: Final = "PROACT_FVC.csv"
FILES: Final = (DEMOGRAPHICS, HISTORY, DEATH, ALSFRS, FVC)
"""The files read, in the order they are read; only ALSFRS is required."""
REQUIRED_COLUMNS: Final[Mapping[str, tuple[str, ...]]] = {
    DEMOGRAPHICS: ("subject_id", "Sex"),
    HISTORY: ("subject_id", "Site_of_Onset", "Onset_Delta", "Diagnosis_Delta"),
    DEATH: ("subject_id", "Subject_Died", "Death_Days"),
    ALSFRS: ("subject_id", "ALSFRS_Delta", *m.ITEM_COLUMNS.values()),
    FVC: ("subject_id", "Forced_Vital_Capacity_Delta", "pct_of_Normal_Trial_1"),
}
ONE_OF_COLUMNS: Final = (
    (m.Q5A, m.Q5B),
    (tuple(m.ALSFRS_R_ITEMS.values()), m.ORIGINAL_ITEM_10),
)
CHUNK_ROWS: Final = 20_000
MAX_LISTED: Final = 200
DELTA_SPAN: Final = 2 * m.MAX_DELTA_DAYS + 1
HASH_BLOCK: Final = 1 << 20

T = TypeVar("T")
Progress = Callable[[int, int], None]
"""Called with (bytes read so far, bytes in all files)."""


@dataclass(slots=True)
class ImportSummary:
    """What a reader read: rows of each kind, bad rows skipped, and the problems (at most
    :data:`MAX_LISTED` listed, ``unlisted`` more)."""

    subjects: int = 0
    ratings: int = 0
    fvc: int = 0
    deaths: int = 0
    skipped: int = 0
    problems: list[Problem] = field(default_factory=list)
    unlisted: int = 0


class _Stop(Exception):
    """A file cannot be read further (its problem is already recorded)."""


Row = TypeVar("Row", bound=tuple[Any, ...])
Parse = Callable[..., Row]
MakePlain = Callable[[Sequence[str]], quick.Plain[Row]]
"""Makes a file's quick parser from its header (:mod:`alscell.interop.proact.plain_rows`)."""


class ProactReader:
    """The PRO-ACT files in ``directory``: their hashes at once, their rows as batches when iterated.

    Raises
    ------
    InvalidImport
        The directory does not exist or has no ``PROACT_ALSFRS.csv``.
    """

    def __init__(self, directory: Path, *, skip_bad_rows: bool = False,
                 progress: Progress | None = None) -> None:  # fmt: skip
        self.directory, self.skip_bad_rows = directory, skip_bad_rows
        self.progress = progress or (lambda _done, _total: None)
        self.source = f"PRO-ACT files in {directory}"
        if not (directory / ALSFRS).is_file():
            what = "is not a directory" if not directory.is_dir() else f"has no {ALSFRS}"
            raise InvalidImport([Problem(str(directory), what)], source=self.source)
        self.paths = {name: directory / name for name in FILES if (directory / name).is_file()}
        self.files, self._ends_cleanly, self._nul_lines = _fingerprints(self.paths)
        self.summary = ImportSummary()
        self._fatal = False
        self._reported = 0  # skipped rows already counted in a batch
        self._total_bytes = sum(path.stat().st_size for path in self.paths.values())
        self._done_bytes = 0
        self._subjects: dict[str, list[object]] = {}
        self._numbers: dict[str, int] = {}  # subject id -> small integer, for duplicate keys
        self._closed = DEMOGRAPHICS in self.paths  # then only its subjects exist
        self._new: list[str] = []  # subjects seen first in the ratings or FVC

    # ------------------------------------------------------------ batches

    def batches(self) -> Iterator[ComparatorBatch]:
        """Subjects first, then ratings, then FVC, in chunks; raises InvalidImport at the end when the
        import must stop (see the module docstring)."""
        self._read_subjects()
        subjects = [SubjectRecord._make(values) for values in self._subjects.values()]
        self._subjects.clear()
        self.summary.deaths = sum(1 for record in subjects if record.died)
        for chunk in _chunks(subjects, CHUNK_ROWS):
            yield self._batch(subjects=chunk)
        del subjects
        yield from self._visits(ALSFRS, (m.from_alsfrs_row, quick.plain_alsfrs), "ALSFRS_Delta",
                                lambda rows: self._batch(ratings=rows))  # fmt: skip
        if FVC in self.paths:
            yield from self._visits(FVC, (m.from_fvc_row, quick.plain_fvc), "Forced_Vital_Capacity_Delta",
                                    lambda rows: self._batch(fvc=rows))  # fmt: skip
        yield self._batch(subjects=[SubjectRecord(subject) for subject in self._new])
        if self._fatal or (self.summary.problems and not self.skip_bad_rows):
            raise InvalidImport(self._listed(), source=self.source)

    def _batch(self, *, subjects: Sequence[SubjectRecord] = (), ratings: Sequence[RatingRecord] = (),
               fvc: Sequence[FvcRecord] = ()) -> ComparatorBatch:  # fmt: skip
        self.summary.subjects += len(subjects)
        self.summary.ratings += len(ratings)
        self.summary.fvc += len(fvc)
        skipped, self._reported = self.summary.skipped - self._reported, self.summary.skipped
        return ComparatorBatch(subjects=subjects, ratings=ratings, fvc=fvc, skipped=skipped)

    def _visits(self, name: str, parsers: tuple[Parse[Row], MakePlain[Row]], delta: str,
                batch: Callable[[list[Row]], ComparatorBatch]) -> Iterator[ComparatorBatch]:  # fmt: skip
        rows: list[Row] = []
        for value in self._rows(name, parsers, delta):
            rows.append(value)
            if len(rows) >= CHUNK_ROWS:
                yield batch(rows)
                rows = []
        yield batch(rows)
        if name == ALSFRS and not self.summary.ratings and not self._fatal:
            self._report(
                [Problem(name, "has no ratings: a comparator cohort needs them")], fatal=True
            )

    # ------------------------------------------------------------ problems

    def _report(self, problems: Sequence[Problem], *, fatal: bool = False) -> None:
        room = max(MAX_LISTED - len(self.summary.problems), 0)
        self.summary.problems.extend(problems[:room])
        self.summary.unlisted += max(len(problems) - room, 0)
        self._fatal |= fatal

    def _listed(self) -> list[Problem]:
        more = self.summary.unlisted
        tail = [Problem(self.source, f"{more} more problems not listed")] if more else []
        return [*self.summary.problems, *tail]

    # ------------------------------------------------------------ subjects

    def _read_subjects(self) -> None:
        for name, parsers, slots in (
            (DEMOGRAPHICS, (m.from_demographics_row, quick.plain_demographics), (1, 2)),
            (HISTORY, (m.from_history_row, quick.plain_history), (3, 4, 5)),
            (DEATH, (m.from_death_row, quick.plain_death), (6, 7)),
        ):
            if name in self.paths:
                for values in self._rows(name, parsers):
                    subject = str(values[0])
                    record = self._subjects.setdefault(subject, [subject, *([None] * 7)])
                    for slot, value in zip(slots, values[1:], strict=True):
                        record[slot] = value

    # ------------------------------------------------------------ rows

    def _rows(self, name: str, parsers: tuple[Parse[Row], MakePlain[Row]],
              delta: str | None = None) -> Iterator[Row]:  # fmt: skip
        """Each good row of ``name`` parsed; each bad one reported and skipped.

        A row of plain cells is parsed by the file's quick parser; any other row (and so every bad
        one) by the full check of :mod:`~alscell.interop.proact.mapping`, which names its problems.
        """
        parse, plain = parsers
        seen: set[int] = set()
        numbers = self._numbers
        try:
            records = self._records(name)
            _, header = next(records)
            parse_plain = plain(header)
            for row_number, fields in records:
                try:
                    value = parse_plain(fields) or parse(
                        dict(zip(header, fields, strict=True)), where=f"{name} row {row_number}"
                    )
                    number = numbers.get(value[0])  # visits carry (subject, delta, ...)
                    key = -1 if number is None else number * DELTA_SPAN + (value[1] if delta else 0)
                    if number is None or key in seen:
                        key = self._check_key(name, row_number, seen, value, delta)
                except InvalidImport as error:
                    self._report(error.problems)
                    self.summary.skipped += 1
                    continue
                seen.add(key)
                yield value
        except _Stop:
            return

    def _check_key(self, name: str, row_number: int, seen: set[int], value: tuple[Any, ...],
                   delta: str | None) -> int:  # fmt: skip
        """The row's key (subject number, delta); refuses a subject the demographics lack, and a
        second row with the same key."""
        where = f"{name} row {row_number}"
        subject: str = value[0]
        number = self._numbers.get(subject)
        if number is None:
            if self._closed and name != DEMOGRAPHICS:
                raise InvalidImport([Problem(f"{where} column subject_id",
                                             f"subject {subject!r} is not in {DEMOGRAPHICS}")])  # fmt: skip
            number = self._numbers[subject] = len(self._numbers)
            if delta is not None:
                self._new.append(subject)
        day: int = value[1] if delta else 0
        key = number * DELTA_SPAN + day
        if key in seen:
            again = f"subject {subject!r}" + (f" at delta {day}" if delta else "")
            raise InvalidImport([Problem(f"{where} column {delta or 'subject_id'}",
                                         f"{again} is already in an earlier row of {name} "
                                         "(the first is kept)")])  # fmt: skip
        return key

    def _records(self, name: str) -> Iterator[tuple[int, list[str]]]:
        """(1, the header), then (row number, fields) of each data row; file problems end the file
        with _Stop."""
        path = self.paths[name]
        with path.open("rb") as raw:
            text, line = _text(raw, name, self), self._nul_lines[name]
            if line is not None:  # a text CSV file holds none, and PostgreSQL stores none in text
                self._report([Problem(f"{name} row {line}", f"holds a NUL byte (0x00) on line {line}: "
                                      "is it a text CSV file?")], fatal=True)  # fmt: skip
                raise _Stop
            reader = csv.reader(text)
            header = self._header(name, reader)
            yield 1, header
            width, row_number, held = len(header), 1, None
            for fields in _guarded(reader, name, self, lambda: row_number):  # noqa: B023 - late: the row at the error
                row_number += 1
                if held is not None:
                    yield held
                held = (row_number, fields) if len(fields) == width else None
                if held is None:
                    self._misfit(name, width, row_number, fields)
                if row_number % CHUNK_ROWS == 0:
                    self.progress(self._done_bytes + raw.tell(), self._total_bytes)
            if held is not None and not self._ends_cleanly[name]:
                self._report([Problem(f"{name} row {held[0]}", "the file does not end with a line "
                                      "break: its last line may be cut short (a truncated file?)")])  # fmt: skip
                self.summary.skipped += 1
            elif held is not None:
                yield held
        self._done_bytes += path.stat().st_size
        self.progress(self._done_bytes, self._total_bytes)

    def _misfit(self, name: str, width: int, row_number: int, fields: list[str]) -> None:
        """A row with more or fewer fields than the header: reported and skipped, unless blank."""
        if not fields:  # a blank line
            return
        cut = "is cut short (a truncated file?)" if len(fields) < width else "has too many"
        self._report([Problem(f"{name} row {row_number}", f"has {len(fields)} fields, the "
                              f"header has {width}: the row {cut}")])  # fmt: skip
        self.summary.skipped += 1

    def _header(self, name: str, reader: Iterator[list[str]]) -> list[str]:
        header = [column.strip() for column in next(_guarded(reader, name, self, lambda: 0), [])]
        if not header:
            self._report([Problem(name, "is empty: no header row")], fatal=True)
            raise _Stop
        present = set(header)
        problems = [Problem(f"{name} column {column}", "required column is missing")
                    for column in REQUIRED_COLUMNS[name] if column not in present]  # fmt: skip
        if name == ALSFRS:
            problems += _one_of(name, present)
        if problems:
            self._report(problems, fatal=True)
            raise _Stop
        return header


def _one_of(name: str, present: set[str]) -> list[Problem]:
    problems = []
    for first, second in ONE_OF_COLUMNS:
        firsts = (first,) if isinstance(first, str) else first
        if not (all(column in present for column in firsts) or second in present):
            missing = ", ".join(column for column in firsts if column not in present)
            problems.append(Problem(f"{name} column {missing}",
                                    f"required column is missing (or give {second})"))  # fmt: skip
    return problems


def _text(raw: io.BufferedReader, name: str, reader: ProactReader) -> io.TextIOWrapper:
    start = raw.peek(4)[:4]
    if start[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in start:
        reader._report(
            [Problem(name, "is UTF-16, not UTF-8: save it as UTF-8 (CSV UTF-8)")], fatal=True
        )
        raise _Stop
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict", newline="")


def _guarded(rows: Iterator[list[str]], name: str, reader: ProactReader,
             row_number: Callable[[], int]) -> Iterator[list[str]]:  # fmt: skip
    """The csv reader's rows; undecodable bytes or broken quoting end the file with a problem."""
    try:
        yield from rows
    except UnicodeDecodeError:
        reader._report([Problem(name, f"is not UTF-8: a byte at or after row {row_number() + 1} "
                                "cannot be read (Latin-1 or Windows-1252?); save the file as UTF-8")],
                       fatal=True)  # fmt: skip
        raise _Stop from None
    except csv.Error as error:
        reader._report(
            [Problem(f"{name} row {row_number() + 1}", f"is not valid CSV: {error}")], fatal=True
        )
        raise _Stop from None


def _fingerprints(
    paths: Mapping[str, Path],
) -> tuple[dict[str, str], dict[str, bool], dict[str, int | None]]:
    """Each file's SHA-256, whether it ends with a line break (or is empty), and the line of its
    first NUL byte (None: it has none)."""
    hashes, clean, nul = {}, {}, {}
    for name, path in paths.items():
        digest, last, lines, found = hashlib.sha256(), b"\n", 0, None
        with path.open("rb") as file:
            while block := file.read(HASH_BLOCK):
                digest.update(block)
                last = block[-1:]
                at = block.find(b"\x00") if found is None else -1
                if at >= 0:
                    found = lines + block.count(b"\n", 0, at) + 1
                lines += block.count(b"\n")
        hashes[name], clean[name], nul[name] = digest.hexdigest(), last in (b"\n", b"\r"), found
    return hashes, clean, nul


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
