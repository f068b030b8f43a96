"""Hostile files for the importers: valid files mutated by Hypothesis, and the checks every outcome meets.

A test starts from files an exporter wrote (or the shipped samples) and lets Hypothesis apply a few
:class:`Mutation` s: a cell corrupted, a column or row dropped, repeated or moved, bytes that are not
UTF-8, a byte-order mark, a NUL, a file cut short, emptied, removed, or joined by an unknown one; for
JSON and YAML a value anywhere in the tree replaced by one of the wrong type, a huge, empty, deep or
odd one. Cell values come from :data:`HOSTILE_TEXTS` (SQL injection, paths, numbers at the edges,
control characters) and arbitrary text.

Whatever the input, an importer either accepts it or raises an :class:`~alscell.errors.AlscellError`
whose every problem names its place (:func:`assert_placed`) and the rule broken, and leaves every
table of the database as it was (:func:`table_counts`). :class:`Tally` counts what happened, for the
figures the run prints.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa
import yaml
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from alscell.errors import AlscellError, InvalidInput, Problem
from alscell.storage.base import Base

Files = dict[str, bytes]

HOSTILE_TEXTS: Final = (
    "",
    " ",
    "'); DROP TABLE patients;--",
    "1; DELETE FROM audit_events",
    '" OR 1=1 --',
    "../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "/dev/zero",
    "\x00",
    "a\x00b",
    "\ufeff",
    "\u202eevil",
    "\r\n",
    "\t",
    '"',
    "é",
    "😀",
    "NaN",
    "nan",
    "inf",
    "-Infinity",
    "1e309",
    "-0",
    "0",
    "-1",
    "5",
    "4.0",
    "3 ",
    " 3",
    "0x10",
    "1_000",
    "9" * 40,
    "-" + "9" * 400,
    "true",
    "True",
    "yes",
    "null",
    "None",
    "[]",
    "{}",
    '["death"]',
    "[1, 2]",
    "2026-02-30",
    "2026-01-05T09:30",
    "2026-01-05T09:30:00+99:00",
    "0001-01-01",
    "9999-12-31",
    "2026-1-5",
    "%s%s%n",
    "{{7*7}}",
    "${jndi:ldap://x}",
    "=cmd|' /C calc'!A0",
    "x" * 300,
    "y" * 70_000,
)
"""Cell values that have broken importers elsewhere."""

hostile_text: Final = st.sampled_from(HOSTILE_TEXTS) | st.text(max_size=40)


@dataclass(frozen=True)
class Mutation:
    """One change to a file set; ``file``, ``row`` and ``column`` are taken modulo what is there."""

    kind: str
    file: int = 0
    row: int = 0
    column: int = 0
    value: str = ""


CSV_KINDS: Final = (
    "cell", "cell", "cell", "cell", "drop_column", "repeat_column", "swap_columns", "rename_column",
    "drop_row", "repeat_row", "swap_rows", "short_row", "long_row",
)  # fmt: skip
BYTE_KINDS: Final = (
    "truncate", "insert_bytes", "bom", "utf16", "latin1", "nul", "empty", "delete_file",
    "unknown_file", "no_final_newline",
)  # fmt: skip
BYTES_INSERTED: Final = (
    b"\xff",
    b"\xc3\x28",
    b"\x00",
    b"\xef\xbb\xbf",
    b"\xfe\xff",
    b"\x80abc",
    b'"',
    b"\r",
)

indices: Final = st.integers(0, 10_000)


def mutations(kinds: Iterable[str], *, max_size: int = 3) -> st.SearchStrategy[list[Mutation]]:
    """Lists of up to ``max_size`` mutations of the given kinds."""
    one = st.builds(
        Mutation, kind=st.sampled_from(tuple(kinds)), file=indices, row=indices, column=indices,
        value=hostile_text,
    )  # fmt: skip
    return st.lists(one, min_size=1, max_size=max_size)


# ---------------------------------------------------------------- applying mutations


def apply_all(files: Files, changes: Iterable[Mutation], *, newline: str = "\n", extension: str = ".csv",
              tree: Callable[[bytes, Mutation], bytes] | None = None) -> Files:  # fmt: skip
    """``files`` with every change applied in turn (a change that does not fit is skipped).

    CSV changes go to the ``.csv`` files, tree changes (``tree``) to the others, byte changes to any.
    """
    result = dict(files)
    for change in changes:
        if change.kind in BYTE_KINDS:
            _apply_bytes(result, change, extension)
            continue
        names = sorted(
            name for name in result if name.endswith(".csv") == (change.kind in CSV_KINDS)
        )
        if not names:
            continue
        name = names[change.file % len(names)]
        if change.kind in CSV_KINDS:
            result[name] = _apply_csv(result[name], change, newline)
        elif tree is not None:
            result[name] = tree(result[name], change)
    return result


def _apply_bytes(files: Files, change: Mutation, extension: str) -> None:
    names = sorted(files)
    if change.kind == "unknown_file":
        stem = re.sub(r"[/\\\x00]", "_", change.value[:20]) or "extra"
        files[stem + extension] = change.value.encode("utf-8", "surrogatepass")
        return
    if not names:
        return
    name = names[change.file % len(names)]
    changed = _BYTE_CHANGES[change.kind](files[name], change, change.row % (len(files[name]) + 1))
    if changed is None:
        del files[name]
    else:
        files[name] = changed


def _as_text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


_BYTE_CHANGES: Final[dict[str, Callable[[bytes, Mutation, int], bytes | None]]] = {
    "truncate": lambda data, _, at: data[:at],
    "insert_bytes": lambda data, change, at: (
        data[:at] + BYTES_INSERTED[change.column % len(BYTES_INSERTED)] + data[at:]
    ),
    "bom": lambda data, _, __: b"\xef\xbb\xbf" + data,
    "utf16": lambda data, _, __: _as_text(data).encode("utf-16"),
    "latin1": lambda data, _, __: _as_text(data).encode("latin-1", "replace"),
    "nul": lambda data, _, at: data[:at] + b"\x00" + data[at:],
    "empty": lambda _, __, ___: b"",
    "delete_file": lambda _, __, ___: None,
    "no_final_newline": lambda data, _, __: data.rstrip(b"\r\n"),
}


def _apply_csv(data: bytes, change: Mutation, newline: str) -> bytes:
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    except (UnicodeDecodeError, csv.Error):
        return data
    if not rows or not rows[0]:
        return data
    _CSV_CHANGES[change.kind](rows, change)
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator=newline).writerows(rows)
    return buffer.getvalue().encode("utf-8", "surrogatepass")


def _cell(rows: list[list[str]], change: Mutation) -> None:
    row = rows[change.row % len(rows)]
    if row:
        row[change.column % len(row)] = change.value


def _drop_column(rows: list[list[str]], change: Mutation) -> None:
    at = change.column % len(rows[0])
    for row in rows:
        if at < len(row):
            del row[at]


def _repeat_column(rows: list[list[str]], change: Mutation) -> None:
    at = change.column % len(rows[0])
    for row in rows:
        if at < len(row):
            row.append(row[at])


def _swap_columns(rows: list[list[str]], change: Mutation) -> None:
    a, b = change.column % len(rows[0]), change.row % len(rows[0])
    for row in rows:
        if a < len(row) and b < len(row):
            row[a], row[b] = row[b], row[a]


def _rename_column(rows: list[list[str]], change: Mutation) -> None:
    rows[0][change.column % len(rows[0])] = change.value


def _drop_row(rows: list[list[str]], change: Mutation) -> None:
    del rows[change.row % len(rows)]
    if not rows:
        rows.append([])


def _repeat_row(rows: list[list[str]], change: Mutation) -> None:
    rows.insert(change.column % (len(rows) + 1), list(rows[change.row % len(rows)]))


def _swap_rows(rows: list[list[str]], change: Mutation) -> None:
    a, b = change.row % len(rows), change.column % len(rows)
    rows[a], rows[b] = rows[b], rows[a]


def _short_row(rows: list[list[str]], change: Mutation) -> None:
    row = rows[change.row % len(rows)]
    del row[change.column % (len(row) + 1) :]


def _long_row(rows: list[list[str]], change: Mutation) -> None:
    rows[change.row % len(rows)].append(change.value)


_CSV_CHANGES: Final[dict[str, Callable[[list[list[str]], Mutation], None]]] = {
    "cell": _cell, "drop_column": _drop_column, "repeat_column": _repeat_column,
    "swap_columns": _swap_columns, "rename_column": _rename_column, "drop_row": _drop_row,
    "repeat_row": _repeat_row, "swap_rows": _swap_rows, "short_row": _short_row,
    "long_row": _long_row,
}  # fmt: skip


# ---------------------------------------------------------------- trees (JSON, YAML)

TREE_KINDS: Final = ("replace", "replace", "replace", "delete", "repeat", "add_key", "wrap", "swap")


def odd_values(depth: int) -> st.SearchStrategy[Any]:
    """Values of every JSON/YAML type, including huge, deep, empty and wrong ones."""
    scalars = (
        st.none() | st.booleans() | st.integers() | st.sampled_from([10**40, -(10**400), 2**63])
        | st.floats(allow_nan=False, allow_infinity=False) | hostile_text
    )  # fmt: skip
    nested = st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3)
        ),
        max_leaves=6,
    )
    deep = st.integers(1, depth).map(Deep)
    return nested | deep


@dataclass(frozen=True)
class Deep:
    """``depth`` lists nested in each other, written out by :func:`to_json` and :func:`to_yaml` as
    text (the json and yaml modules themselves would recurse too deep to write them)."""

    depth: int


def _written(tree: Any, dump: Callable[[Any], str]) -> str:
    deep: dict[str, int] = {}

    def marked(node: Any) -> Any:
        if isinstance(node, Deep):
            token = f"DEEP{len(deep)}MARK"
            deep[token] = node.depth
            return token
        if isinstance(node, dict):
            return {key: marked(value) for key, value in node.items()}
        if isinstance(node, list):
            return [marked(value) for value in node]
        return node

    text = dump(marked(tree))
    for token, depth in deep.items():
        text = re.sub(f"[\"']?{token}[\"']?", "[" * depth + "]" * depth, text)
    return text


def nesting(text: str) -> int:
    """How deep brackets and braces nest in ``text`` (quotes not heeded: a bound, for skipping trees
    too deep to walk and copy without exhausting the stack, whatever the stack already holds)."""
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def to_json(tree: Any) -> bytes:
    """``tree`` as JSON text (UTF-8), deep values included."""
    return _written(tree, lambda data: json.dumps(data, ensure_ascii=False)).encode(
        "utf-8", "surrogatepass"
    )


def to_yaml(tree: Any) -> str:
    """``tree`` as YAML text, deep values included (in flow style)."""
    return _written(
        tree, lambda data: yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=200)
    )


@dataclass(frozen=True)
class TreeMutation:
    """A change at a place in a JSON or YAML tree: the path is walked by indices modulo the size."""

    kind: str
    path: tuple[int, ...]
    value: Any


def tree_mutations(*, depth: int, max_size: int = 3) -> st.SearchStrategy[list[TreeMutation]]:
    """Lists of changes anywhere in a tree."""
    one = st.builds(
        TreeMutation, kind=st.sampled_from(TREE_KINDS),
        path=st.lists(indices, min_size=0, max_size=8).map(tuple), value=odd_values(depth),
    )  # fmt: skip
    return st.lists(one, min_size=1, max_size=max_size)


def mutate_tree(tree: Any, change: TreeMutation) -> Any:
    """``tree`` (changed in place where it can be) with ``change`` applied; returns the new root."""
    parent: Any = None
    key: Any = None
    node = tree
    for step in change.path:
        children = _children(node)
        if not children:
            break
        parent, key = node, children[step % len(children)]
        node = node[key]
    if parent is None:
        return change.value if change.kind == "replace" else tree
    if change.kind == "replace":
        parent[key] = change.value
    elif change.kind == "delete":
        del parent[key]
    elif change.kind == "repeat" and isinstance(parent, list):
        parent.insert(key, copy.deepcopy(node))
    elif change.kind == "add_key" and isinstance(node, dict):
        node[str(change.value)[:30] or "x"] = change.value
    elif change.kind == "wrap":
        parent[key] = [node]
    elif change.kind == "swap":
        children = _children(parent)
        other = children[(change.path[-1] // 7) % len(children)]
        parent[key], parent[other] = parent[other], parent[key]
    return tree


def _children(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return list(node)
    if isinstance(node, list):
        return list(range(len(node)))
    return []


# ---------------------------------------------------------------- files on disk


def write_files(folder: Path, files: Files) -> Path:
    """A new ``folder`` holding exactly ``files``."""
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def read_files(folder: Path) -> Files:
    """Every file in ``folder`` by name."""
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


# ---------------------------------------------------------------- the checks


@dataclass
class Tally:
    """What one importer made of its inputs."""

    tried: int = 0
    rejected: int = 0
    accepted: int = 0
    unhandled: int = 0

    def record(self, figures: Any) -> None:
        figures.add("inputs tried", self.tried)
        figures.add("rejected with place and rule", self.rejected)
        figures.add("accepted (checked valid)", self.accepted)
        figures.add("unhandled", self.unhandled)


@contextmanager
def outcome(tally: Tally) -> Iterator[list[AlscellError]]:
    """Count one input: the block raises nothing (accepted) or an AlscellError (rejected, kept in
    the list it yields for the caller to check). Anything else is counted unhandled and re-raised."""
    tally.tried += 1
    caught: list[AlscellError] = []
    try:
        yield caught
    except AlscellError as error:
        caught.append(error)
        tally.rejected += 1
    except BaseException:
        tally.unhandled += 1
        raise
    else:
        tally.accepted += 1


_MACHINE_TEXT: Final = re.compile(r"Traceback|object at 0x|<class '|Error\(")


def problems_of(error: AlscellError) -> tuple[Problem, ...]:
    """The problems a rejection lists; every rejection of a file must be an InvalidInput."""
    assert isinstance(error, InvalidInput), f"{type(error).__name__} is not InvalidInput: {error}"
    return error.problems


def assert_placed(error: AlscellError, placed: Callable[[Problem], bool]) -> None:
    """Every problem of ``error`` names its place (``placed``) and a rule a person can read."""
    for problem in problems_of(error):
        assert placed(problem), f"no place named: {problem}"
        assert problem.message.strip(), f"no rule named: {problem}"
        assert not _MACHINE_TEXT.search(problem.message), f"not a rule for people: {problem}"


def table_counts(connection: sa.Connection) -> dict[str, int]:
    """Rows in every table of alscell's schema, in one statement."""
    tables = Base.metadata.sorted_tables
    counts = [sa.select(sa.func.count()).select_from(table).scalar_subquery() for table in tables]
    row = connection.execute(sa.select(*counts)).one()
    return {table.name: int(value) for table, value in zip(tables, row, strict=True)}


@contextmanager
def scratch_session(connection: sa.Connection) -> Iterator[Session]:
    """A session on ``connection`` whose every write, committed or not, is undone afterwards."""
    savepoint = connection.begin_nested()
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield db
    finally:
        db.close()
        if savepoint.is_active:
            savepoint.rollback()
