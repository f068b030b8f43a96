"""The ``alscell`` command line: one Typer app, a module per command group.

This is a composition root: it alone (with the web app and migrations) may call ``load_settings()``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from alscell import __version__
from alscell.cli.db import audit_app, backup_app, db_app
from alscell.cli.demo import demo
from alscell.cli.evaluate import evaluate
from alscell.cli.import_proact import proact
from alscell.cli.interop import export_app, import_app
from alscell.cli.power import power
from alscell.cli.protocol import protocol_app
from alscell.cli.report import report
from alscell.cli.scales import alsfrs_app, encals_app
from alscell.cli.serve import serve
from alscell.cli.synth import synth
from alscell.cli.users import site_app, token_app, user_app

__all__ = ["app", "main"]

app = typer.Typer(
    name="alscell",
    help="Run an ALS cell-therapy treatment program safely, and evaluate its outcomes honestly.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("demo")(demo)
app.add_typer(alsfrs_app, name="alsfrs")
app.add_typer(encals_app, name="encals")
app.add_typer(protocol_app, name="protocol")
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(backup_app)  # the top-level commands backup and restore
app.add_typer(site_app, name="site")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.command("serve")(serve)
app.command("evaluate")(evaluate)
app.command("power")(power)
app.command("report")(report)
app.command("synth")(synth)
app.add_typer(export_app, name="export")
import_app.command("proact")(proact)
app.add_typer(import_app, name="import")


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"alscell {__version__}")
        raise typer.Exit


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Run an ALS cell-therapy treatment program safely, and evaluate its outcomes honestly."""


def main() -> None:
    """Entry point of the ``alscell`` script and of ``python -m alscell``."""
    app(prog_name="alscell")
