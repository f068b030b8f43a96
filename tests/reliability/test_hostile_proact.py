"""Hostile PRO-ACT tables, read and imported as a comparator cohort on SQLite and PostgreSQL.

The shipped sample tables are mutated by Hypothesis (:mod:`tests.reliability.hostile`) and imported as
the command line does (:class:`~alscell.interop.proact.ProactReader` batches into
:func:`~alscell.services.comparators.import_comparator_cohort`). For every input the import succeeds
or raises an InvalidInput whose every problem names its place; the rows written in batches before the
refusal are gone after the adapter's rollback; an accepted cohort holds exactly the rows the reader
counted; the audit trail verifies afterwards.

"Names the place": the location starts with one of the PRO-ACT file names, then ``row N`` (the
header is row 1) and optionally ``column C``, or ``column C`` alone for a header missing a column;
only a file that is empty, not UTF-8, or without ratings is named alone, only the directory when it
has no ratings file, and the reader's source only for the count of problems not listed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from hypothesis import example, given, note, settings
from sqlalchemy.orm import Session

from alscell.errors import Problem
from alscell.interop.proact import ProactReader
from alscell.interop.proact.transfer import FILES
from alscell.services.audit import verify_trail
from alscell.services.comparators import import_comparator_cohort
from tests.figures import Figures, scaled
from tests.reliability import hostile
from tests.reliability.hostile import BYTE_KINDS, CSV_KINDS, Mutation, Tally

NOW: Final = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
SAMPLES: Final = Path(__file__).parents[1] / "interop" / "proact" / "samples" / "download"
EXAMPLES: Final = scaled(250)

_PLACE: Final = re.compile(
    rf"(?P<file>{'|'.join(map(re.escape, FILES))})(?P<rest>| row \d+(?: column .+)?| column .+)",
    re.DOTALL,
)
_FILE_RULES: Final = ("is empty", "is UTF-16", "is not UTF-8", "has no ratings")


def _placed(reader_source: str, folder: Path) -> Callable[[Problem], bool]:
    def placed(problem: Problem) -> bool:
        if problem.location == str(folder):
            return True
        if problem.location == reader_source:
            return problem.message.endswith("more problems not listed")
        match = _PLACE.fullmatch(problem.location)
        if match is None:
            return False
        return bool(match["rest"]) or problem.message.startswith(_FILE_RULES)

    return placed


def _attempt(session: Session, folder: Path, tally: Tally) -> None:
    connection = session.connection()
    with hostile.scratch_session(connection) as db:
        before = hostile.table_counts(connection)
        readers: list[ProactReader] = []
        with hostile.outcome(tally) as caught:
            readers.append(ProactReader(folder))
            import_comparator_cohort(
                db, name="fuzzed", source="hostile files", files=readers[0].files,
                batches=readers[0].batches(), by=None, now=NOW,
            )  # fmt: skip
        if caught:
            source = readers[0].source if readers else f"PRO-ACT files in {folder}"
            hostile.assert_placed(caught[0], _placed(source, folder))
            db.rollback()  # what the command line does: batches were written before the refusal
            assert hostile.table_counts(connection) == before
            return
        after = hostile.table_counts(connection)
        summary = readers[0].summary
        assert after["comparator_cohorts"] - before["comparator_cohorts"] == 1
        assert after["comparator_subjects"] - before["comparator_subjects"] == summary.subjects
        assert after["comparator_ratings"] - before["comparator_ratings"] == summary.ratings
        assert after["comparator_fvc"] - before["comparator_fvc"] == summary.fvc
        assert summary.ratings > 0
        assert summary.problems == []


def test_hostile_proact_tables(session: Session, tmp_path: Path, figures: Figures) -> None:
    valid = hostile.read_files(SAMPLES)
    tally = Tally()
    inputs = iter(range(1_000_000))

    @settings(max_examples=EXAMPLES)
    @given(changes=hostile.mutations(CSV_KINDS + BYTE_KINDS))
    @example(changes=[Mutation("cell", file=0, row=1, column=0, value="x" * 300)])
    @example(changes=[Mutation("cell", file=0, row=1, column=0, value="a\x00b")])
    @example(changes=[Mutation("nul", file=2, row=140)])  # a NUL byte in a subject id
    def check(changes: list[Mutation]) -> None:
        note(repr(changes))
        folder = hostile.write_files(
            tmp_path / f"in-{next(inputs)}", hostile.apply_all(valid, changes)
        )
        _attempt(session, folder, tally)

    check()
    tally.record(figures)
    assert verify_trail(session) == []
    assert tally.unhandled == 0
    assert tally.rejected > 0
