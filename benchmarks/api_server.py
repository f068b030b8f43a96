"""The API benchmark's server: alscell's real app plus one bare endpoint, served by uvicorn.

    python -m benchmarks.api_server DATABASE_URL

Runs in a process of its own (one uvicorn worker), started and stopped by :mod:`benchmarks.bench_api`.
It binds 127.0.0.1 on a port the system picks, prints ``port N`` on stdout once the socket listens,
then serves until it is terminated. ``GET /bench/bare`` is the reference: a plain ``def`` route (run
in the thread pool like every alscell route) returning a small constant JSON, with no sign-in and no
database, so "alscell / bare" measures what alscell adds to one FastAPI request on the same server.
"""

from __future__ import annotations

import argparse
import socket
import sys
from typing import Final

import uvicorn
from fastapi import FastAPI

from alscell.config import Settings
from alscell.web.app import create_app

BARE_PATH: Final = "/bench/bare"
BARE_BODY: Final = {"status": "ok", "service": "alscell-bench"}


def bench_app(database_url: str) -> FastAPI:
    """alscell's app on ``database_url`` (settings passed in, not read from the environment), plus the bare route."""
    settings = Settings(_env_file=None, database_url=database_url, environment="development",
                        cookie_secure=False)  # fmt: skip
    app = create_app(settings)

    @app.get(BARE_PATH, include_in_schema=False)
    def bare() -> dict[str, str]:
        return BARE_BODY

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url")
    app = bench_app(parser.parse_args().database_url)
    # proto IPPROTO_TCP, as asyncio's own sockets have: asyncio sets TCP_NODELAY on accepted sockets
    # only then, and without it Nagle's algorithm adds ~40 ms to each answer written in two parts.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(256)
    sys.stdout.write(f"port {listener.getsockname()[1]}\n")
    sys.stdout.flush()
    # No access log: it would cost both endpoints the same and so flatter the ratio.
    config = uvicorn.Config(app, workers=1, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[listener])


if __name__ == "__main__":
    main()
