"""Hostile protocol files: the shipped protocols mutated by Hypothesis, read by the protocol loader.

The loader touches no database, so one run is enough. Each input is a built-in protocol file whose
YAML tree was changed (a value of the wrong type, huge, empty, deep or odd; a key dropped, added or
repeated; items moved) or whose text was (an alias bomb, a Python tag, a repeated key, tabs, deep
flow nesting, a huge number, bytes that are not UTF-8, a BOM, a NUL, the file cut short).

For every input :func:`~alscell.storage.protocol_files.read_protocol` returns a protocol, which must
then plan a calendar, or raises an InvalidInput naming the file (its subject is ``protocol file
<name>``, or each problem names the file) whose every problem names its place: ``<name>, line L, column C`` for YAML, the path of the
value in the document (``phases[0].activities[2].day``, or ``(top level)``) for the schema, and the
file name alone only for a file too large or not UTF-8.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any, Final

import yaml
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

from alscell.domain.scheduling import plan_schedule
from alscell.errors import InvalidInput, Problem
from alscell.storage.protocol_files import builtin_protocols, read_protocol
from tests.figures import Figures, scaled
from tests.reliability import hostile
from tests.reliability.hostile import Deep, Mutation, Tally, TreeMutation

EXAMPLES: Final = scaled(400)
NAME: Final = "protocol.yaml"
ORIGINALS: Final = [path.read_text(encoding="utf-8") for path in builtin_protocols().values()]

SNIPPETS: Final = (
    "bomb: &a [x, x, x, x, x, x, x, x, x]\nb1: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "b2: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n",
    "base: &base {day: 1}\nmerged: {<<: *base}\n",
    "title: !!python/object/apply:os.system ['true']\n",
    "title: !!binary aGVsbG8=\n",
    "id: tiny-lp\nid: again\n",
    "\tid: tabbed\n",
    "deep: " + "[" * 5_000 + "]" * 5_000 + "\n",
    "deep: " + "{a: " * 3_000 + "1" + "}" * 3_000 + "\n",
    "big: " + "9" * 5_000 + "\n",
    "? [a, b]\n: complex key\n",
    "%YAML 1.1\n---\n",
    "--- \n...\n--- second document\n",
    "x: 1e309\n",
    "'unclosed: quote\n",
    "{\n",
)
"""Text that YAML readers have choked on, put in front of or in the middle of a protocol file."""

_SCHEMA_PATH: Final = re.compile(
    r"\(top level\)|(?:[^\s\[\].][^\[\].]*|\[.+?\])(?:\[\d+\]|\.[^\[\].]+|\[.+?\])*", re.DOTALL
)
"""A field path: names joined by dots, list indexes, and keys that are not plain names in brackets."""
_YAML_PLACE: Final = re.compile(rf"{re.escape(NAME)}, line \d+, column \d+")
_FILE_RULES: Final = ("larger than", "not UTF-8")


def _placed(problem: Problem) -> bool:
    if problem.location == NAME:
        return problem.message.startswith(_FILE_RULES)
    if problem.location.startswith(NAME + ","):
        return _YAML_PLACE.fullmatch(problem.location) is not None
    return _SCHEMA_PATH.fullmatch(problem.location) is not None


@st.composite
def protocol_files(draw: st.DrawFn) -> bytes:
    text = ORIGINALS[draw(st.integers(0, len(ORIGINALS) - 1))]
    tree: Any = yaml.safe_load(text)
    for change in draw(hostile.tree_mutations(depth=3_000, max_size=2) | st.just([])):
        tree = hostile.mutate_tree(tree, change)
    text = hostile.to_yaml(tree)
    if draw(st.booleans()):
        lines = text.splitlines(keepends=True)
        at = draw(st.integers(0, len(lines)))
        snippet = draw(st.sampled_from(SNIPPETS))
        text = "".join([*lines[:at], snippet, *lines[at:]])
    data = text.encode("utf-8", "surrogatepass")
    changes = draw(hostile.mutations(("truncate", "insert_bytes", "bom", "utf16", "latin1", "nul"), max_size=1) | st.just([]))  # fmt: skip
    return hostile.apply_all({NAME: data}, changes).get(NAME, b"")


def test_hostile_protocol_files(tmp_path: Path, figures: Figures) -> None:
    tally = Tally()
    path = tmp_path / NAME

    @settings(max_examples=EXAMPLES)
    @given(data=protocol_files())
    @example(data=("deep: " + "[" * 5_000 + "]" * 5_000 + "\n" + ORIGINALS[0]).encode())
    @example(data=hostile.to_yaml(hostile.mutate_tree(
        yaml.safe_load(ORIGINALS[0]), TreeMutation("replace", (2,), 10**400))).encode())  # fmt: skip
    def check(data: bytes) -> None:
        note(repr(data[:300]))
        path.write_bytes(data)
        with hostile.outcome(tally) as caught:
            protocol = read_protocol(path)
            plan_schedule(protocol, date(2026, 1, 5))
        if caught:
            assert isinstance(caught[0], InvalidInput)
            named = [problem.location == NAME for problem in caught[0].problems]
            assert caught[0].subject == f"protocol file {NAME}" or all(named), caught[0]
            hostile.assert_placed(caught[0], _placed)

    check()
    tally.record(figures)
    assert tally.unhandled == 0
    assert tally.rejected > 0
    assert tally.accepted > 0


def test_the_built_in_protocols_are_accepted_unchanged(tmp_path: Path) -> None:
    for text in ORIGINALS:
        (tmp_path / NAME).write_text(text, encoding="utf-8")
        assert read_protocol(tmp_path / NAME).version


__all__ = ["Deep", "Mutation"]
