"""What starting the command line costs: the libraries ``alscell --help`` must not load.

Each command imports its heavy parts (statistics, figures, exchange formats, the server, migrations)
when it runs. The test suite and ``make bench`` read ``python -X importtime -m alscell --help`` to hold
that line and to print its cost.
"""

from __future__ import annotations

from typing import Final

__all__ = ["HEAVY_LIBRARIES", "imported_modules"]

HEAVY_LIBRARIES: Final = frozenset(
    {
        "statsmodels",
        "lifelines",
        "matplotlib",
        "pandas",
        "pyreadstat",
        "fhir",
        "weasyprint",
        "uvicorn",
        "fastapi",
        "alembic",
    }
)
"""Top-level packages that ``alscell --help`` must not import."""


def imported_modules(importtime_trace: str) -> set[str]:
    """The modules named in the ``-X importtime`` trace of a Python process (its standard error)."""
    modules = set()
    for line in importtime_trace.splitlines():
        if not line.startswith("import time:"):
            continue
        name = line.rsplit("|", 1)[-1].strip()
        if name and name != "imported package":
            modules.add(name)
    return modules
