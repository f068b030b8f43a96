"""Figures that the reliability and security tests report: trials run, writes checked, inputs tried.

A test asks for the ``figures`` fixture and calls ``figures.add("writes checked", 1_800)``; at the end of
the run pytest prints every test's figures in one section ("reliability and security figures"), so a
green run still says how much was tried. ``SOAK`` (the environment variable ``ALSCELL_SOAK``, set by
``make soak``) multiplies the sizes the tests choose, for a longer run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Final

import pytest

__all__ = ["SOAK", "FigureBook", "Figures", "scaled"]

SOAK: Final = max(1, int(os.environ.get("ALSCELL_SOAK", "1") or "1"))
"""How many times larger the bounded tests run (1 inside ``make test``)."""


def scaled(count: int) -> int:
    """``count`` times the soak factor: the size a bounded test uses for this run."""
    return count * SOAK


@dataclass
class Figures:
    """One test's figures, in the order they were added."""

    test: str
    values: list[tuple[str, int | float | str]] = field(default_factory=list)

    def add(self, name: str, value: int | float | str) -> None:
        self.values.append((name, value))

    def __str__(self) -> str:
        shown = ", ".join(f"{name} {_shown(value)}" for name, value in self.values)
        return f"{self.test}: {shown}"


@dataclass
class FigureBook:
    """Every test's figures of this run."""

    entries: list[Figures] = field(default_factory=list)

    def open(self, test: str) -> Figures:
        figures = Figures(test)
        self.entries.append(figures)
        return figures

    def report(self, terminal: pytest.TerminalReporter) -> None:
        shown = [entry for entry in self.entries if entry.values]
        if not shown:
            return
        terminal.section("reliability and security figures")
        for entry in shown:
            terminal.write_line(str(entry))


BOOK_KEY: Final = pytest.StashKey[FigureBook]()


def _shown(value: int | float | str) -> str:
    if isinstance(value, (bool, str)):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.3g}"
