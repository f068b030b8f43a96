"""``alscell report``: the program report of a protocol version as one HTML file or a PDF.

The format comes from the suffix of ``--out`` (``.html`` or ``.pdf``). The file is written to a temporary
file in the same directory and moved into place, so a reader never sees half a report.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from alscell.cli.console import make_console, reported_errors
from alscell.cli.evaluate import data_cutoff_from, enrolled_count, protocol_to_evaluate, user_named
from alscell.config import load_settings
from alscell.domain.defaults import DEFAULT_SEED
from alscell.domain.report import ProgramReport
from alscell.errors import InvalidInput, Problem
from alscell.storage import migrate
from alscell.storage.comparator_files import natural_history_from, safety_reference_from
from alscell.storage.session import make_engine, make_session_factory

__all__ = ["report"]

SUFFIXES = (".html", ".pdf")


def report(
    out: Annotated[Path, typer.Option("--out", help="The file to write: FILE.html or FILE.pdf.")],
    protocol: Annotated[
        str | None,
        typer.Option("--protocol", help="Protocol version id, or protocol key (its newest version). "
                     "Needed when more than one protocol version has patients."),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Data cut-off, YYYY-MM-DD (default: today at the clinic).")
    ] = None,
    deidentified: Annotated[
        bool, typer.Option("--deidentified", help="Study codes only; patients' dates as days from their first dose.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the natural-history simulation.")] = DEFAULT_SEED,
    by: Annotated[
        str | None, typer.Option("--by", help="Report as this user sees it (their sites only).")
    ] = None,
) -> None:  # fmt: skip
    """Write the program report (evidence statement first) as HTML or PDF."""
    from alscell.domain.analyses import ANALYSIS_STEPS  # heavy: imported when run, not for --help
    from alscell.services.reporting import program_report, record_report_issued

    with reported_errors():
        renderer = _renderer(out)
        settings = load_settings()
        cutoff = data_cutoff_from(as_of, settings)
        model = natural_history_from(settings.natural_history_file)
        reference = safety_reference_from(settings.safety_reference_file)
        engine = make_engine(settings.database_url)
        try:
            migrate.require_current(engine)
            with (
                make_session_factory(engine)() as session,
                Progress(transient=True, console=make_console()) as bar,
            ):
                user = user_named(session, by)
                protocol_id = protocol_to_evaluate(session, protocol, user)
                task = bar.add_task("Evaluating, then writing the report",
                                    total=enrolled_count(session, protocol_id) + ANALYSIS_STEPS + 2)  # fmt: skip
                result = program_report(session, protocol_id=protocol_id, by=user, today=cutoff, model=model,
                                        safety_reference=reference, seed=seed, deidentified=deidentified,
                                        progress=lambda: bar.advance(task))  # fmt: skip
                content = renderer(result)
                bar.advance(task)
                # audited before the file is written: a report may be recorded that failed to
                # reach the disk, never one that left unrecorded
                record_report_issued(session, report=result, by=user, now=datetime.now(UTC),
                                     report_format="PDF" if out.suffix.lower() == ".pdf" else "HTML")  # fmt: skip
        finally:
            engine.dispose()
        _write_atomically(out, content)
    typer.echo(f"Wrote {out}")


def _renderer(out: Path) -> Callable[[ProgramReport], bytes]:
    suffix = out.suffix.lower()
    if suffix not in SUFFIXES:
        rule = f"must end in .html or .pdf, got {out.name!r}"
        raise InvalidInput([Problem("--out", rule)], subject="command")
    if not out.resolve().parent.is_dir():
        rule = f"its directory {out.resolve().parent} does not exist"
        raise InvalidInput([Problem("--out", rule)], subject="command")
    from alscell.reports.render import render_html, render_pdf  # matplotlib: only when writing

    if suffix == ".pdf":
        return render_pdf
    return lambda report: render_html(report).encode("utf-8")


def _write_atomically(out: Path, content: bytes) -> None:
    """A temporary file beside ``out``, then a rename: ``out`` is either the old file or the whole new one."""
    directory = out.resolve().parent
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        Path(temporary).replace(out)  # os.replace: atomic on one file system
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
