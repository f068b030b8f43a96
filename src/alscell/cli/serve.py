"""``alscell serve``: run the web application with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Serve the JSON API (and the clinic's pages) on HOST:PORT; settings come from ALSCELL_*."""
    import uvicorn  # imported when serving, not for --help

    uvicorn.run("alscell.web.app:create_app", factory=True, host=host, port=port, log_level="info")
