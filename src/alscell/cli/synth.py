"""``alscell synth``: a synthetic cohort from the natural-history model, as CSV files.

Writes ``OUT/alscell/*.csv`` in alscell's CSV format (docs/interop.md), which ``alscell import csv``
loads where the site ``--site-code`` exists, and ``OUT/proact/*.csv`` in PRO-ACT's table format;
docs/synthetic.md lists the files. The cohort is simulated (test and demonstration data, never evidence);
the same seed and options give byte-identical files. Each file is written to a temporary name and
renamed into place only when the whole cohort has been written.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.progress import Progress

from alscell.cli.console import make_console, reported_errors
from alscell.config import load_settings
from alscell.domain.stats import synthetic as syn
from alscell.errors import InvalidInput, Problem
from alscell.interop.csv.transfer import CRLF
from alscell.interop.proact import PROACT_TABLES
from alscell.storage.comparator_files import natural_history_from

__all__ = ["synth"]

DEFAULT_START = "2020-01-06"
"""A fixed start date, so the files do not depend on the day they are written."""

SITE_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{0,19}")
"""A code 'alscell site add' accepts (services.admin.create_site), so the import can find the site."""


def synth(
    out: Annotated[Path, typer.Option("--out", help="Directory to write (OUT/alscell, OUT/proact); "
                                             "refused if not empty.")],
    patients: Annotated[int, typer.Option(min=1, help="Patients in the cohort.")] = 1_000,
    seed: Annotated[int, typer.Option(help="Seed of the simulation.")] = 1,
    effect: Annotated[
        float, typer.Option(min=0.0, max=0.99, help="Simulated slowing of ALSFRS-R decline, 0-0.99, "
                            "from the first visit after baseline (default 0: natural history).")
    ] = 0.0,
    months: Annotated[float, typer.Option(min=0.0, help="Follow-up, months (visits every 3).")] = 18.0,
    start: Annotated[str, typer.Option(help="Baseline date of every patient, YYYY-MM-DD.")] = DEFAULT_START,
    site_code: Annotated[str, typer.Option(help="Site of every patient in OUT/alscell (it must exist "
                                           "where the files are imported).")] = syn.DEFAULT_SITE_CODE,
    force: Annotated[bool, typer.Option(help="Write into a non-empty directory.")] = False,
) -> None:  # fmt: skip
    """Write a synthetic cohort in alscell's CSV format (for 'import csv') and PRO-ACT's table format."""
    with reported_errors():
        spec = syn.CohortSpec(patients=patients, seed=seed, start=_date(start), slowing=effect,
                              visit_months=syn.visit_schedule(months))  # fmt: skip
        _check_site_code(site_code)
        _check_empty(out, force=force)
        model = natural_history_from(load_settings().natural_history_file)
        tables = [(out / "alscell", syn.alscell_tables(site_code)), (out / "proact", PROACT_TABLES)]
        with Progress(console=make_console()) as progress:
            task = progress.add_task("Simulating patients", total=patients)
            chunks = syn.synthesize(model, spec, lambda n: progress.advance(task, n))
            counts = write_tables(chunks, spec.start, tables)
    _summary(spec, site_code, counts)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            [Problem("--start", f"must be a date YYYY-MM-DD, got {text!r}")]
        ) from None


def _check_site_code(code: str) -> None:
    if not SITE_CODE.fullmatch(code):
        rule = f"must be 1-20 capital letters, digits or hyphens, got {code!r}"
        raise InvalidInput([Problem("--site-code", rule)])


def _check_empty(out: Path, *, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise InvalidInput([Problem("--out", f"{out} is a file, not a directory")])
    if out.is_dir() and any(out.iterdir()) and not force:
        raise InvalidInput([Problem("--out", f"{out} is not empty (use --force to write into it)")])


def write_tables(
    chunks: Iterator[syn.CohortChunk],
    start: date,
    tables: Sequence[tuple[Path, Sequence[syn.Table]]],
) -> dict[Path, int]:
    """Stream every chunk into every table's file; the rows written to each final path."""
    targets = [(folder / table.file_name, table) for folder, batch in tables for table in batch]
    counts = dict.fromkeys((path for path, _ in targets), 0)
    with ExitStack() as stack:
        writers = [
            (path, table, csv.writer(stack.enter_context(_atomic(path)), lineterminator=CRLF))
            for path, table in targets
        ]
        for _, table, writer in writers:
            writer.writerow(table.columns)
        for chunk in chunks:
            for path, table, writer in writers:
                rows = list(table.rows(chunk, start))
                writer.writerows(rows)
                counts[path] += len(rows)
    return counts


@contextmanager
def _atomic(path: Path) -> Iterator[TextIO]:
    """A file written under a temporary name and renamed to ``path`` only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        with temporary.open("w", newline="", encoding="utf-8") as file:
            yield file
        temporary.replace(path)  # os.replace: atomic on one file system
    finally:
        temporary.unlink(missing_ok=True)


def _summary(spec: syn.CohortSpec, site_code: str, counts: dict[Path, int]) -> None:
    console = make_console()
    console.print(
        f"Synthetic cohort: {spec.patients} patients, seed {spec.seed}, visits at months "
        f"{', '.join(f'{m:g}' for m in spec.visit_months)}, simulated slowing {spec.slowing:g} from "
        f"month {spec.treatment_start_months:g}, site {site_code}. Simulated data, not evidence."
    )
    for path, rows in counts.items():
        console.print(f"  {path}: {rows} rows")
