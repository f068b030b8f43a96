"""Hostile clinical-record files: alscell CSV, FHIR bundles and REDCap projects, read and imported.

Each test starts from the files the format's exporter writes for the sample data set, lets Hypothesis
mutate them (:mod:`tests.reliability.hostile`), then reads them and imports the data set into a real
database (SQLite and PostgreSQL) that holds the sample's site and protocol version. For every input:

- the import succeeds, or raises an :class:`~alscell.errors.AlscellError` that is an InvalidInput;
- every problem names its place, as the format defines it (below), and a rule a person can read;
- a rejected import wrote nothing, not even a row flushed and later rolled back: every table has the
  rows it had before, checked on the same connection before the adapter's rollback;
- an accepted import added exactly the records of the data set read, one row each;
- after the whole run the audit trail still verifies.

"Names the place", per format:

- alscell CSV: ``<file>.csv row N`` (the header is row 1), with `` column C`` for a cell; the file is
  one of the input's; only a file that is no alscell table or is empty is named without a row, and
  only a missing or empty folder by the folder alone.
- FHIR: ``<file>.json`` followed by ``line L column C`` (JSON syntax), ``element E`` (the bundle) or
  ``entry N (Type) element E`` / ``... column C``; only an encoding problem names the file alone.
- REDCap: ``records.csv`` or ``data_dictionary.csv`` with ``row N`` and/or ``column C``, or
  ``mapping.yaml`` with a line and column (YAML syntax) or the mapping's key path; only an unreadable,
  empty or wrongly encoded file (or one that is not a mapping at all) is named alone.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import pytest
import yaml
from hypothesis import example, given, note, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from alscell.domain.dataset import DERIVED, ClinicalDataset
from alscell.errors import Problem
from alscell.interop.csv import read_csv_dir, write_csv_dir
from alscell.interop.fhir import read_fhir, write_fhir
from alscell.interop.redcap import read_redcap, write_redcap
from alscell.interop.redcap.transfer import DICTIONARY_FILE, MAPPING_FILE, RECORDS_FILE
from alscell.services import admin, protocols
from alscell.services.audit import verify_trail
from alscell.services.data_import import import_dataset
from alscell.storage.models import User
from tests.figures import Figures, scaled
from tests.interop.sample import sample_dataset
from tests.reliability import hostile
from tests.reliability.hostile import (
    BYTE_KINDS,
    CSV_KINDS,
    Deep,
    Files,
    Mutation,
    Tally,
    TreeMutation,
)

NOW: Final = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
EXAMPLES: Final = scaled(200)
TREE_DEPTH: Final = 200
"""Trees nested deeper are not changed further (they are already hostile enough)."""

# The sample data set's program: its activities, under the key and version the sample names.
SAMPLE_PROTOCOL: Final = """\
id: seed-program
version: "1.0"
title: The sample data set's program
duration: {min_days: 10, max_days: 400}
eligibility:
  diagnostic_system: revised_el_escorial
  diagnosis_categories: [definite, probable]
phases:
  - id: treatment
    name: Treatment
    activities:
      - {id: iv_neurotrophic, kind: iv_infusion, name: IV infusion, day: 0,
         repeat: {rule: daily, count: 5}}
      - {id: rehabilitation, kind: rehabilitation, name: Rehabilitation, day: 0,
         duration_minutes: 45, repeat: {rule: daily, count: 5}}
      - {id: lp, kind: lumbar_puncture_implantation, name: Lumbar puncture, day: 7,
         window_days: 1, min_interval_days: 6, repeat: {rule: every_n_days, every_days: 7, count: 2},
         records: [cell_product_unit]}
follow_up:
  anchor_activity: lp
  visits:
    - {id: month-1, name: Month 1, months: 1, window_days: 7}
product: {name: Test cells, source: autologous, cell_type: mesenchymal stromal cells,
          route: intrathecal, dose: {cells: 5000000}}
analysis_plan: {version: "1.0", primary_outcome: alsfrs_r_total_change, time_point_months: 6,
                anchor_activity: lp, improved_min_change: 1, worsened_max_change: -1,
                comparator: natural_history}
"""

ORM_TABLES: Final = {"identities": "patient_identities"}
"""Data-set tables stored under another name (the rest are stored under their own)."""


@dataclass
class Clinic:
    """The sample's site and protocol version with an administrator, on the test's connection."""

    session: Session
    boss_id: int

    def attempt(self, tally: Tally, read: Callable[[], ClinicalDataset], source: str,
                placed: Callable[[Problem], bool]) -> None:  # fmt: skip
        """Read and import one input, and check the outcome (see the module docstring)."""
        connection = self.session.connection()
        with hostile.scratch_session(connection) as db:
            boss = db.get(User, self.boss_id)
            assert boss is not None
            before = hostile.table_counts(connection)
            read_back: list[ClinicalDataset] = []
            with hostile.outcome(tally) as caught:
                read_back.append(read())
                import_dataset(db, read_back[0], by=boss, now=NOW, source=source)
            after = hostile.table_counts(connection)
            if caught:
                hostile.assert_placed(caught[0], placed)
                assert after == before, "a rejected import wrote rows before refusing"
                db.rollback()
                assert hostile.table_counts(connection) == before
                return
            added = {name: after[name] - before[name] for name in after}
            for name, count in read_back[0].counts().items():
                if name not in DERIVED:
                    assert added[ORM_TABLES.get(name, name)] == count, name
            assert added["audit_events"] >= sum(read_back[0].counts().values())


@pytest.fixture
def clinic(session: Session) -> Iterator[Clinic]:
    boss = admin.create_first_admin(session, username="boss", full_name="Boss", now=NOW)
    admin.create_site(session, code="S1", name="Sample clinic", by=boss, now=NOW)
    protocols.load_protocol_version(
        session, text=SAMPLE_PROTOCOL, source="sample", by=boss, now=NOW
    )
    yield Clinic(session, boss.id)
    assert verify_trail(session) == []


def _exported(write: Callable[[ClinicalDataset, Path], object]) -> Files:
    with tempfile.TemporaryDirectory() as folder:
        write(sample_dataset(), Path(folder) / "out")
        return hostile.read_files(Path(folder) / "out")


@pytest.fixture
def scratch(tmp_path: Path) -> Callable[[], Path]:
    """A new empty folder for each input."""
    counter = iter(range(1_000_000))
    return lambda: tmp_path / f"input-{next(counter)}"


def test_the_sample_imports_through_every_format(clinic: Clinic, tmp_path: Path) -> None:
    """The starting point is valid: unmutated, each format's export is accepted."""
    tally = Tally()
    csv_files = hostile.write_files(tmp_path / "csv", _exported(write_csv_dir))
    clinic.attempt(tally, lambda: read_csv_dir(csv_files), "csv", lambda _: False)
    assert tally.accepted == 1


# ---------------------------------------------------------------- alscell CSV

_CSV_PLACE: Final = re.compile(
    r"(?P<file>[^/\\]+?\.csv)(?: row (?P<row>\d+)(?: column .+)?)?", re.DOTALL
)
_CSV_FILE_RULES: Final = ("is not an alscell table", "is empty")


def _csv_placed(folder: Path, names: set[str]) -> Callable[[Problem], bool]:
    def placed(problem: Problem) -> bool:
        if problem.location == str(folder):
            return True
        if problem.location == "…":
            return problem.message.startswith("and ")
        match = _CSV_PLACE.fullmatch(problem.location)
        if match is None or match["file"] not in names:
            return False
        return match["row"] is not None or problem.message.startswith(_CSV_FILE_RULES)

    return placed


VALID_CSV: Final = _exported(write_csv_dir)


def _cell(file: str, row: int, column: str, value: str) -> Mutation:
    """The mutation that writes ``value`` into one cell of the valid CSV export (header: row 1)."""
    header = VALID_CSV[file].decode("utf-8").splitlines()[0].split(",")
    return Mutation("cell", sorted(VALID_CSV).index(file), row - 1, header.index(column), value)


PINNED: Final = [
    # (cell changed, the place and the rule of the problem it must give); each once crashed the
    # import on PostgreSQL, or was found only after writing, without its place
    (_cell("lab_results.csv", 2, "analyte", "a\x00b"), "lab_results.csv row 2 column analyte", "NUL"),
    (_cell("identities.csv", 2, "mrn", "x" * 300), "identities.csv row 2 column mrn", "at most 80"),
    (_cell("administrations.csv", 2, "duration_minutes", "9" * 40),
     "administrations.csv row 2 column duration_minutes", "whole number between"),
    (_cell("screenings.csv", 2, "criteria_json", "{"), "screenings.csv row 2 column criteria_json",
     "JSON array"),
    (_cell("schedule_events.csv", 2, "kind", "'); DROP TABLE patients;--"),
     "schedule_events.csv row 2 column kind", "must be one of done, skipped"),
    (_cell("schedule_events.csv", 2, "occurrence", "0"), "schedule_events.csv row 2 column occurrence",
     "must be >= 1"),
    (_cell("schedule_events.csv", 2, "activity_id", "../../etc/passwd"),
     "schedule_events.csv row 2 column activity_id", "no activity or visit"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "place", "rule"), PINNED, ids=[p[1] for p in PINNED])
def test_pinned_defects_are_refused_at_their_place(
    clinic: Clinic, scratch: Callable[[], Path], change: Mutation, place: str, rule: str
) -> None:
    folder = hostile.write_files(scratch(), hostile.apply_all(VALID_CSV, [change]))
    tally = Tally()
    caught: list[Problem] = []

    def placed(problem: Problem) -> bool:
        caught.append(problem)
        return _csv_placed(folder, set(VALID_CSV))(problem)

    clinic.attempt(tally, lambda: read_csv_dir(folder), "csv", placed)
    assert tally.rejected == 1
    assert any(p.location == place and rule in p.message for p in caught), caught


def test_hostile_alscell_csv_files(
    clinic: Clinic, scratch: Callable[[], Path], figures: Figures
) -> None:
    valid = VALID_CSV
    tally = Tally()

    @settings(max_examples=EXAMPLES)
    @given(changes=hostile.mutations(CSV_KINDS + BYTE_KINDS))
    @example(changes=[Mutation("insert_bytes", file=1, row=3133, column=2)])  # a NUL in a cell
    @example(changes=[pinned[0] for pinned in PINNED])
    def check(changes: list[Mutation]) -> None:
        note(repr(changes))
        files = hostile.apply_all(valid, changes)
        folder = hostile.write_files(scratch(), files)
        names = {name for name in files if name.endswith(".csv")}
        clinic.attempt(tally, lambda: read_csv_dir(folder), "csv", _csv_placed(folder, names))

    check()
    tally.record(figures)
    assert tally.unhandled == 0
    assert tally.rejected > 0


# ---------------------------------------------------------------- FHIR

_FHIR_PLACE: Final = re.compile(
    r"(?P<file>[^/\\]+?\.json)"
    r"(?P<rest>| line \d+ column \d+| element .+| entry \d+(?: \([A-Za-z]+\))? (?:element|column) .+)",
    re.DOTALL,
)
_FHIR_FILE_RULES: Final = ("is not UTF-8", "starts with a byte order mark")


def _fhir_placed(folder: Path, names: set[str]) -> Callable[[Problem], bool]:
    def placed(problem: Problem) -> bool:
        if problem.location == str(folder):
            return problem.message.startswith("holds no FHIR bundle")
        match = _FHIR_PLACE.fullmatch(problem.location)
        if match is None or match["file"] not in names:
            return False
        return bool(match["rest"]) or problem.message.startswith(_FHIR_FILE_RULES)

    return placed


def _fhir_tree(data: bytes, change: Any) -> bytes:
    try:
        text = data.decode("utf-8")
        if hostile.nesting(text) > TREE_DEPTH:
            return data  # made deep by an earlier change: too deep to change safely, left as it is
        tree = json.loads(text)
    except (UnicodeDecodeError, ValueError):
        return data
    return hostile.to_json(hostile.mutate_tree(tree, change))


def test_hostile_fhir_bundles(
    clinic: Clinic, scratch: Callable[[], Path], figures: Figures
) -> None:
    valid = _exported(write_fhir)
    tally = Tally()

    @settings(max_examples=EXAMPLES)
    @given(changes=hostile.mutations(BYTE_KINDS, max_size=1) | hostile.tree_mutations(depth=3_000))
    @example(changes=[Mutation("insert_bytes", 0, 265, 3, "\ufeff")])  # a BOM inside a resourceType
    @example(
        changes=[TreeMutation("replace", (0, 3, 0, 1, 0), Deep(1))]
    )  # a list as a resourceType
    @example(changes=[TreeMutation("replace", (0, 3, 0, 1), None)])  # an entry without its resource
    def check(changes: list[Any]) -> None:
        note(repr(changes))
        files = dict(valid)
        for change in changes:
            if isinstance(change, Mutation):
                files = hostile.apply_all(files, [change], extension=".json")
            else:
                name = sorted(files)[change.path[0] % len(files)] if change.path else "P-0001.json"
                files[name] = _fhir_tree(files[name], hostile.TreeMutation(
                    change.kind, change.path[1:], change.value))  # fmt: skip
        folder = hostile.write_files(scratch(), files)
        names = {name for name in files if name.endswith(".json")}
        clinic.attempt(tally, lambda: read_fhir(folder), "fhir", _fhir_placed(folder, names))

    check()
    tally.record(figures)
    assert tally.unhandled == 0
    assert tally.rejected > 0


# ---------------------------------------------------------------- REDCap

_REDCAP_CSV: Final = re.compile(
    rf"(?:{re.escape(RECORDS_FILE)}|{re.escape(DICTIONARY_FILE)})"
    r" (?:row \d+.*|column .+)",
    re.DOTALL,
)
_REDCAP_FILE_RULES: Final = (
    "is empty", "is not UTF-8", "is UTF-16", "cannot be read", "is not an alscell REDCap mapping",
    "nests lists or mappings too deeply", "has no fields",
)  # fmt: skip


def _redcap_placed(problem: Problem) -> bool:
    location = problem.location
    if location in (RECORDS_FILE, DICTIONARY_FILE, MAPPING_FILE):
        return problem.message.startswith(_REDCAP_FILE_RULES)
    if location.startswith(MAPPING_FILE + " "):
        return True  # a line and column, or a key path of the mapping
    return _REDCAP_CSV.fullmatch(location) is not None


def _redcap_tree(data: bytes, change: Any) -> bytes:
    try:
        text = data.decode("utf-8")
        if hostile.nesting(text) > TREE_DEPTH:
            return data
        tree = yaml.safe_load(text)
    except (UnicodeDecodeError, yaml.YAMLError):
        return data
    return hostile.to_yaml(hostile.mutate_tree(tree, change)).encode("utf-8", "surrogatepass")


def test_hostile_redcap_projects(
    clinic: Clinic, scratch: Callable[[], Path], figures: Figures
) -> None:
    valid = _exported(write_redcap)
    tally = Tally()

    @settings(max_examples=EXAMPLES)
    @given(
        changes=hostile.mutations(CSV_KINDS + BYTE_KINDS),
        tree=hostile.tree_mutations(depth=2_000, max_size=1) | st.just([]),
    )
    @example(changes=[Mutation("rename_column", 1, 0, 5, "")], tree=[])  # a header cell left empty
    @example(changes=[Mutation("nul", file=1)], tree=[])  # a NUL in the mapping
    @example(
        changes=[Mutation("drop_row", 0, 0)], tree=[TreeMutation("replace", (1,), Deep(2_000))]
    )
    @example(  # a list where a form's table should be
        changes=[Mutation("cell", 0, 0, 0, "")],
        tree=[TreeMutation("replace", (202, 0, 1), Deep(1))],
    )
    def check(changes: list[Mutation], tree: list[Any]) -> None:
        note(repr((changes, tree)))
        files = hostile.apply_all(valid, changes, newline="\r\n")
        if tree and MAPPING_FILE in files:
            files[MAPPING_FILE] = _redcap_tree(files[MAPPING_FILE], tree[0])
        folder = hostile.write_files(scratch(), files)
        paths = [folder / RECORDS_FILE, folder / DICTIONARY_FILE, folder / MAPPING_FILE]
        clinic.attempt(tally, lambda: read_redcap(*paths), "redcap", _redcap_placed)

    check()
    tally.record(figures)
    assert tally.unhandled == 0
    assert tally.rejected > 0
