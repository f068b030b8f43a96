"""``alscell export ...`` and ``alscell import ...``: records in and out in other systems' formats.

Exports read the database through ``services.data_export.export_dataset`` (permission-checked, audited,
de-identified unless ``--identified`` is asked for by a user allowed to see identities) and hand the
data set to a format's writer. Imports read a format into a data set, which is checked whole, and
``services.data_import.import_dataset`` writes it in one transaction, or nothing at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from alscell.cli.console import make_console, reported_errors
from alscell.cli.evaluate import user_named
from alscell.config import load_settings
from alscell.domain.dataset import ClinicalDataset
from alscell.errors import InvalidInput, Problem
from alscell.interop.csv import read_csv_dir, write_csv_dir
from alscell.interop.redcap import read_redcap, write_redcap
from alscell.services.data_export import export_dataset
from alscell.services.data_import import ImportSummary, import_dataset
from alscell.storage import migrate
from alscell.storage.session import make_engine, make_session_factory

__all__ = ["export_app", "import_app"]

export_app = typer.Typer(
    help="Export records: alscell CSV, FHIR R4B, REDCap, CDISC SDTM and ODM.", no_args_is_help=True
)
import_app = typer.Typer(
    help="Import records (alscell CSV, FHIR, REDCap) or a PRO-ACT comparator cohort.",
    no_args_is_help=True,
)

OutDir = Annotated[Path, typer.Option("--out", help="Directory to write (new or empty).")]
Identified = Annotated[
    bool,
    typer.Option(
        "--identified",
        help="Include names, birth dates and MRNs (only for a --by user allowed to see them).",
    ),
]
ExportBy = Annotated[
    str | None,
    typer.Option("--by", help="Export as this user (their sites only; needed for --identified)."),
]
ImportBy = Annotated[
    str, typer.Option("--by", help="The administrator importing (recorded as the recorder).")
]


@contextmanager
def _session() -> Iterator[Session]:
    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        migrate.require_current(engine)
        with make_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def exported(purpose: str, by: str | None, identified: bool) -> ClinicalDataset:
    """The records ``by`` (or the console) may export, the export audited under ``purpose``."""
    with _session() as session:
        return export_dataset(
            session, by=user_named(session, by), now=datetime.now(UTC), purpose=purpose,
            identified=identified,
        )  # fmt: skip


def imported(dataset: ClinicalDataset, by: str, source: str) -> ImportSummary:
    """Write ``dataset`` as ``by``, all or nothing, and print what was added."""
    with _session() as session:
        user = user_named(session, by)
        assert user is not None
        summary = import_dataset(session, dataset, by=user, now=datetime.now(UTC), source=source)
    table = Table(title=f"Imported from {source}")
    table.add_column("records")
    table.add_column("count", justify="right")
    for name, count in summary.counts.items():
        table.add_row(name, str(count))
    make_console().print(table)
    make_console().print(f"Calendars rebuilt from the protocol: {summary.calendars_rebuilt}")
    return summary


def _written(paths: list[Path], out: Path) -> None:
    make_console().print(f"Wrote {len(paths)} files to {out}")


def _refuse_file_as_dir(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise InvalidInput([Problem(str(path), "is a file, not a directory")], subject="output")


@export_app.command("csv")
def export_csv(out: OutDir, identified: Identified = False, by: ExportBy = None) -> None:
    """Every record as alscell CSV: one file per record type (docs/interop.md)."""
    with reported_errors():
        _refuse_file_as_dir(out)
        dataset = exported("alscell CSV", by, identified)
        _written(write_csv_dir(dataset, out), out)


@import_app.command("csv")
def import_csv(
    directory: Annotated[Path, typer.Argument(help="Directory of alscell CSV files.")],
    by: ImportBy,
) -> None:
    """Add the patients and products in a directory of alscell CSV files (all or nothing)."""
    with reported_errors():
        imported(read_csv_dir(directory), by, f"alscell CSV {directory.name}")


@export_app.command("fhir")
def export_fhir(out: OutDir, identified: Identified = False, by: ExportBy = None) -> None:
    """One FHIR R4B Bundle per patient, and one of product units (docs/fhir.md)."""
    from alscell.interop.fhir import write_fhir  # fhir.resources: imported when run, not for --help

    with reported_errors():
        _refuse_file_as_dir(out)
        _written(write_fhir(exported("FHIR R4B", by, identified), out), out)


@import_app.command("fhir")
def import_fhir(
    path: Annotated[Path, typer.Argument(help="A FHIR Bundle (.json) or a directory of them.")],
    by: ImportBy,
) -> None:
    """Add the patients and products in FHIR R4B bundles written by alscell (all or nothing)."""
    from alscell.interop.fhir import read_fhir  # fhir.resources: imported when run, not for --help

    with reported_errors():
        imported(read_fhir(path), by, f"FHIR {path.name}")


@export_app.command("redcap")
def export_redcap(out: OutDir, identified: Identified = False, by: ExportBy = None) -> None:
    """A REDCap data dictionary, the matching record export, and the field mapping (docs/redcap.md)."""
    with reported_errors():
        _refuse_file_as_dir(out)
        _written(write_redcap(exported("REDCap", by, identified), out), out)


@import_app.command("redcap")
def import_redcap(
    records: Annotated[Path, typer.Argument(help="REDCap record export (CSV, raw values, flat).")],
    dictionary: Annotated[
        Path, typer.Option("--dictionary", help="The project's data dictionary (CSV).")
    ],
    mapping: Annotated[
        Path, typer.Option("--mapping", help="Field mapping file (YAML, docs/redcap.md).")
    ],
    by: ImportBy,
) -> None:
    """Add the patients in a REDCap record export, read through a field mapping (all or nothing)."""
    with reported_errors():
        imported(read_redcap(records, dictionary, mapping), by, f"REDCap {records.name}")


StudyId = Annotated[
    str, typer.Option("--study-id", help="STUDYID / study OID written in every dataset.")
]


@export_app.command("sdtm")
def export_sdtm(
    out: OutDir,
    study_id: StudyId = "ALSCELL",
    xpt: Annotated[bool, typer.Option(help="Also write SAS transport v5 (.xpt) files.")] = True,
    by: ExportBy = None,
) -> None:
    """CDISC SDTM datasets DM, AE, EX, PR, QS, RE, VS, LB, DS, SV (de-identified; docs/cdisc.md)."""
    from alscell.interop.cdisc import write_sdtm  # pandas: imported when run, not for --help

    with reported_errors():
        _refuse_file_as_dir(out)
        _written(
            write_sdtm(exported("CDISC SDTM", by, False), out, study_id=study_id, xpt=xpt), out
        )


@export_app.command("odm")
def export_odm(
    out: Annotated[Path, typer.Option("--out", help="The XML file to write (must not exist).")],
    study_id: StudyId = "ALSCELL",
    by: ExportBy = None,
) -> None:
    """CDISC ODM 1.3.2 XML: study metadata and clinical data (de-identified; docs/cdisc.md)."""
    from alscell.interop.cdisc import write_odm  # pandas: imported when run, not for --help

    with reported_errors():
        dataset = exported("CDISC ODM", by, False)
        keys = sorted({f"{e.protocol_key} {e.protocol_version}" for e in dataset.enrollments})
        path = write_odm(
            dataset, out, study_oid=study_id, study_name=study_id,
            protocol_name=", ".join(keys) or "no enrollments", created_at=datetime.now(UTC),
        )  # fmt: skip
        make_console().print(f"Wrote {path}")
