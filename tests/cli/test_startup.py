"""``alscell --help`` answers without loading the heavy libraries that only some commands use.

Every command imports its statistics, reports, exchange formats and server when it runs, not when the
command line starts: the test reads ``python -X importtime`` of a real ``alscell --help`` in a fresh
interpreter, so it sees every module loaded, however indirectly.
"""

from __future__ import annotations

import subprocess
import sys

from alscell.cli.startup import HEAVY_LIBRARIES, imported_modules


def help_imports() -> set[str]:
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "alscell", "--help"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "Usage" in completed.stdout
    return imported_modules(completed.stderr)


def test_help_imports_none_of_the_heavy_libraries():
    loaded = {name.split(".")[0] for name in help_imports()}

    assert {"statsmodels", "lifelines", "matplotlib"} <= HEAVY_LIBRARIES
    assert loaded.isdisjoint(HEAVY_LIBRARIES), sorted(loaded & HEAVY_LIBRARIES)
    assert {"alscell", "typer"} <= loaded  # the reading of the trace is not vacuous


def test_the_trace_is_read_module_by_module():
    trace = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:       417 |       7138 |           scipy\n"
        "import time:        12 |         12 |   lifelines.fitters\n"
    )

    assert imported_modules(trace) == {"scipy", "lifelines.fitters"}
