"""``alscell serve``: run the web application with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from alscell.cli.console import reported_errors
from alscell.config import load_settings


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Serve the JSON API (and the clinic's pages) on HOST:PORT; settings come from ALSCELL_*.

    Refuses to start on a database whose schema is not current (run: alscell db upgrade), rather
    than answer every request with an error.
    """
    import uvicorn  # imported when serving, not for --help

    from alscell.storage import migrate
    from alscell.storage.session import make_engine

    with reported_errors():
        engine = make_engine(load_settings().database_url)
        try:
            migrate.require_current(engine)
        finally:
            engine.dispose()
    uvicorn.run("alscell.web.app:create_app", factory=True, host=host, port=port, log_level="info")
