"""Terminal output for the CLI: one console, and the one place errors become exit codes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from alscell.errors import AlscellError

__all__ = ["EXIT_FAILURE", "make_console", "reported_errors"]

EXIT_FAILURE = 1


def make_console() -> Console:
    """A console for tables and text; wide enough that tables do not wrap in logs and tests."""
    return Console(highlight=False, width=160)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn an :class:`~alscell.errors.AlscellError` into one line on stderr and exit status 1."""
    try:
        yield
    except AlscellError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_FAILURE) from error
