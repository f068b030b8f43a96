"""``alscell demo``: the whole program on synthetic patients, its reports, then the web app.

Creates a fresh SQLite database (only the demo's own file is ever replaced), loads the seed protocol,
creates the demo's users and prints their passwords once, takes fifteen synthetic patients with sporadic
ALS through screening, treatment and 6 months of follow-up by calling the services
(:mod:`alscell.services.demo`), evaluates the program, writes ``report.html`` and ``report.pdf``, and
unless ``--no-serve`` serves the web app on that database. The synthetic patients decline as natural
history predicts unless ``--effect`` simulates a slowing. Any failure exits non-zero with one line
naming the step.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.progress import Progress
from rich.table import Table

from alscell.cli.console import EXIT_FAILURE, make_console
from alscell.domain.defaults import DEFAULT_SEED
from alscell.storage import migrate
from alscell.storage.comparator_files import builtin_natural_history, builtin_safety_reference
from alscell.storage.session import make_engine, make_session_factory

if TYPE_CHECKING:
    from alscell.services.demo import DemoSummary

__all__ = ["demo"]

T = TypeVar("T")
DEMO_MARK = "alscell-demo"
"""Written into the demo database (SQLite application_id via a table name): only such a file is replaced."""


class DemoFailed(Exception):
    """A step of the demo failed; the message names the step."""


def demo(
    db: Annotated[Path, typer.Option(help="The demo's SQLite file, created afresh.")] = Path("alscell-demo.sqlite3"),
    out: Annotated[Path, typer.Option(help="Folder for report.html and report.pdf.")] = Path("demo-output"),
    seed: Annotated[int, typer.Option(help="Seed of the synthetic patients and of the evaluation.")] = DEFAULT_SEED,
    effect: Annotated[float, typer.Option(min=0.0, max=0.9, help="Simulated slowing of decline after the first "
                                          "dose (0 = none, the default; 0.3 = 30 % slower). Never an observed effect.")] = 0.0,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the web app afterwards.")] = True,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to serve on.")] = 8000,
    patients: Annotated[int, typer.Option(min=5, max=99, help="How many synthetic patients.")] = 15,
    daily_care: Annotated[bool, typer.Option(hidden=True, help="Record the daily IV and rehabilitation "
                                             "sessions (--no-daily-care: faster, for tests).")] = True,
) -> None:  # fmt: skip
    """Run the whole program on 15 synthetic patients, write its reports, then serve the web app."""
    console = make_console()
    try:
        url = _step("creating the database", lambda: _fresh_database(db))
        summary = _run(url, seed, effect, patients, daily_care)
        _show_users(summary)
        paths = _step("writing the reports", lambda: _write_reports(url, summary, out))
    except DemoFailed as failure:
        typer.echo(f"error: {failure}", err=True)
        raise typer.Exit(EXIT_FAILURE) from failure
    console.print(f"{len(summary.patients)} synthetic patients ({len(summary.treated)} treated, "
                  f"{len(summary.ineligible)} ineligible); data cut-off {summary.data_cutoff}.")  # fmt: skip
    for path in paths:
        console.print(f"Wrote {path}")
    if serve:
        _serve(url, host, port)


def _step(name: str, action: Callable[[], T]) -> T:
    try:
        return action()
    except Exception as error:  # any failure becomes one line naming the step
        raise DemoFailed(f"demo failed while {name}: {error}") from error


def _fresh_database(path: Path) -> str:
    """Create the demo database, replacing an earlier demo file but never any other file."""
    if path.exists():
        if not _is_demo_database(path):
            raise DemoFailed(
                f"{path} exists and is not an alscell demo database; choose another --db"
            )
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{path.resolve()}"
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    with _sqlite(path) as connection:
        connection.execute(
            f"CREATE TABLE IF NOT EXISTS {DEMO_MARK.replace('-', '_')} (created INTEGER)"
        )
    return url


def _is_demo_database(path: Path) -> bool:
    try:
        with _sqlite(path) as connection:
            found = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                (DEMO_MARK.replace("-", "_"),),
            ).fetchone()
    except sqlite3.DatabaseError:
        return False
    return found is not None


@contextmanager
def _sqlite(path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(path)
    try:
        with connection:
            yield connection
    finally:
        connection.close()


def _run(url: str, seed: int, effect: float, count: int, daily_care: bool) -> DemoSummary:
    from alscell.services.demo import run_demo  # heavy: imported when run, not for --help

    engine = make_engine(url)
    try:
        with (
            make_session_factory(engine)() as session,
            Progress(console=make_console()) as progress,
        ):
            task = progress.add_task("Synthetic patients through the program", total=count)

            def advance(code: str) -> None:
                progress.update(task, advance=1, description=f"Synthetic patients: {code} done")

            return _step("running the program", lambda: run_demo(
                session, model=builtin_natural_history(), seed=seed, effect=effect, count=count,
                daily_care=daily_care, progress=advance))  # fmt: skip
    finally:
        engine.dispose()


def _show_users(summary: DemoSummary) -> None:
    table = Table(title="Demo users: sign in with these passwords (shown only now)")
    for column in ("Username", "Role", "Name", "Password"):
        table.add_column(column)
    for user in summary.users:
        table.add_row(user.username, user.role.value, user.full_name, user.password)
    make_console().print(table)


def _write_reports(url: str, summary: DemoSummary, out: Path) -> tuple[Path, Path]:
    from alscell.reports.render import render_html, render_pdf  # heavy: imported when run
    from alscell.services.reporting import program_report

    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            report = program_report(session, protocol_id=summary.protocol_id, by=None, today=summary.data_cutoff,
                                    model=builtin_natural_history(), safety_reference=builtin_safety_reference(),
                                    seed=summary.seed)  # fmt: skip
    finally:
        engine.dispose()
    out.mkdir(parents=True, exist_ok=True)
    html, pdf = out / "report.html", out / "report.pdf"
    html.write_text(render_html(report), encoding="utf-8")
    pdf.write_bytes(render_pdf(report))
    return html, pdf


def _serve(url: str, host: str, port: int) -> None:
    """Serve the web app on the demo database (plain http on this machine: cookies not HTTPS-only)."""
    import uvicorn  # imported when serving, not for --help

    os.environ.update(
        ALSCELL_DATABASE_URL=url, ALSCELL_COOKIE_SECURE="false", ALSCELL_ENVIRONMENT="development"
    )
    make_console().print(f"Serving the demo at http://{host}:{port}/ (Ctrl-C stops it)")
    uvicorn.run(
        "alscell.web.app:create_app", factory=True, host=host, port=port, log_level="warning"
    )
