"""``alscell import proact``: a directory of PRO-ACT CSV tables as a named comparator cohort.

The reader (:mod:`alscell.interop.proact.transfer`) checks every row and hands batches to the service
(:func:`alscell.services.comparators.import_comparator_cohort`), which writes them in one transaction:
a bad file, or a bad row without ``--skip-bad-rows``, leaves nothing behind. docs/proact.md describes
the columns read, the rules and what is stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.orm import Session

from alscell.cli.console import EXIT_FAILURE, make_console, reported_errors
from alscell.config import load_settings
from alscell.errors import InvalidImport
from alscell.interop.proact import ImportSummary, ProactReader
from alscell.services.comparators import import_comparator_cohort
from alscell.storage import migrate
from alscell.storage.models import ComparatorCohort
from alscell.storage.session import make_engine, make_session_factory

__all__ = ["proact"]


def proact(
    directory: Annotated[Path, typer.Argument(help="Directory holding PROACT_ALSFRS.csv and, if "
                                              "available, PROACT_DEMOGRAPHICS.csv, PROACT_ALSHISTORY.csv, "
                                              "PROACT_DEATHDATA.csv and PROACT_FVC.csv.")],
    name: Annotated[str, typer.Option("--name", help="Name of the comparator cohort (unique), as "
                                      "'alscell evaluate --comparator NAME' refers to it.")],
    skip_bad_rows: Annotated[bool, typer.Option("--skip-bad-rows", help="Leave out rows that break a "
                                                "rule and list them, instead of importing nothing.")] = False,
    source: Annotated[str | None, typer.Option("--source", help="Where the files came from, e.g. "
                                               "'PRO-ACT download 2026-02-01' (default: the directory).")] = None,
) -> None:  # fmt: skip
    """Import PRO-ACT tables as a named comparator cohort, checking every row first."""
    with reported_errors():
        settings = load_settings()
        engine = make_engine(settings.database_url)
        try:
            migrate.require_current(engine)
            with make_session_factory(engine)() as session, _bar() as progress:
                task = progress.add_task("Reading PRO-ACT tables", total=None)
                reader = ProactReader(directory, skip_bad_rows=skip_bad_rows,
                                      progress=lambda done, total: progress.update(task, completed=done, total=total))  # fmt: skip
                cohort = _imported(
                    session, reader, name=name, source=source or str(directory.resolve())
                )
        finally:
            engine.dispose()
    _summary(cohort, reader.summary)


def _bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                    console=make_console(), transient=True)  # fmt: skip


def _imported(
    session: Session, reader: ProactReader, *, name: str, source: str
) -> ComparatorCohort:
    """The cohort imported; the problems listed one a line, and exit 1, when the files are refused."""
    try:
        return import_comparator_cohort(session, name=name, source=source, files=reader.files,
                                        batches=reader.batches(), by=None, now=datetime.now(UTC))  # fmt: skip
    except InvalidImport as error:
        session.rollback()
        _problems(error)
        raise typer.Exit(EXIT_FAILURE) from error


def _problems(error: InvalidImport) -> None:
    typer.echo(
        f"error: nothing was imported; {len(error.problems)} problems in {error.source}:", err=True
    )
    for problem in error.problems:
        typer.echo(f"  {problem}", err=True)


def _summary(cohort: ComparatorCohort, summary: ImportSummary) -> None:
    console = make_console()
    console.print(
        f"Comparator cohort [bold]{cohort.name}[/bold] (id {cohort.id}): {summary.subjects} subjects, "
        f"{summary.ratings} ALSFRS ratings, {summary.fvc} FVC records, {summary.deaths} death records; "
        f"{summary.skipped} rows skipped."
    )
    for problem in summary.problems:
        console.print(f"  skipped: {problem}", markup=False)
    if summary.unlisted:
        console.print(f"  and {summary.unlisted} more problems not listed")
