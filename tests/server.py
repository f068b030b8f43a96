"""The real web app in a process of its own: ``uvicorn alscell.web.app:create_app`` on 127.0.0.1.

Used by the browser tests and the reliability tests (load, backups under load, concurrent writers).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

import httpx
import sqlalchemy as sa

__all__ = ["GUARD_SECONDS", "serve"]

GUARD_SECONDS: Final = 120
"""Only so a broken build fails instead of hanging; never reached when it works."""


@contextmanager
def serve(database: sa.Engine | str, **settings: str) -> Iterator[str]:
    """The app on a free loopback port, on the database of an engine or a URL; yields its base URL.

    ``settings`` are extra ``ALSCELL_*`` variables (``busy_timeout_ms="500"``, for instance).
    """
    port = _free_port()
    url = (
        database
        if isinstance(database, str)
        else database.url.render_as_string(hide_password=False)
    )
    env = {**os.environ, "ALSCELL_DATABASE_URL": url,
           "ALSCELL_ENVIRONMENT": "test", "ALSCELL_COOKIE_SECURE": "false",
           **{f"ALSCELL_{name.upper()}": value for name, value in settings.items()}}  # fmt: skip
    command = [sys.executable, "-m", "uvicorn", "alscell.web.app:create_app", "--factory",
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]  # fmt: skip
    process = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process)
        yield base
    finally:
        process.terminate()
        process.wait(GUARD_SECONDS)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + GUARD_SECONDS
    with httpx.Client(base_url=base, timeout=5) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode}")
            try:
                client.get("/login")
                return
            except httpx.TransportError:
                time.sleep(0.1)
    raise RuntimeError("the server did not start")
