"""Strict YAML for the files people write by hand: protocols and natural-history models.

YAML is read safely; a key written twice in one mapping is refused (a silent overwrite of a dose or an
interval would be dangerous), as are aliases (a few nested ones expand into gigabytes), explicit tags
(``!!float x`` fails inside PyYAML, with no place), dates that do not exist (``2026-02-30``) and keys that
are lists or mappings. Problems come back as :class:`~alscell.errors.InvalidInput` with line and column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import yaml

from alscell.errors import InvalidInput, NotFound, Problem

__all__ = ["parse_yaml", "read_text"]


MAX_DEPTH: Final = 50
"""Lists and mappings nested deeper than this are refused: a protocol needs about 6 levels, and the
composer recurses once per level (thousands of ``[`` would exhaust Python's stack)."""


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses aliases, tags, deep nesting, keys that are not plain values, and
    repeated keys."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.events.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            problem = "aliases (*name) are not allowed here"
            raise yaml.composer.ComposerError(None, None, problem, mark)
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if getattr(event, "tag", None) not in (None, "!"):
            tag = event.tag.replace("tag:yaml.org,2002:", "!!")
            problem = f"tags ({tag}) are not allowed here: write the plain value"
            raise yaml.composer.ComposerError(None, None, problem, event.start_mark)
        if self.depth >= MAX_DEPTH:
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            problem = f"lists and mappings nest deeper than {MAX_DEPTH} levels here"
            raise yaml.composer.ComposerError(None, None, problem, mark)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _mapping_without_duplicates(
    loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False
) -> Any:
    seen: set[object] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, list | dict):
            problem = "a key must be a plain value, not a list or mapping"
            raise yaml.constructor.ConstructorError(None, None, problem, key_node.start_mark)
        if key in seen:
            problem = f"key {key!r} appears twice in the same mapping"
            raise yaml.constructor.ConstructorError(None, None, problem, key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


MAX_WHOLE: Final = 2**63
"""Whole numbers must be smaller than this in size: every count, day or dose of a protocol is, and
larger ones overflow the floats and database integers they become."""


def _bounded_int(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
    problem = f"a whole number must be smaller than {MAX_WHOLE:,} in size"
    if len(str(node.value)) > 2 * len(str(MAX_WHOLE)):  # long text: int() would refuse or crawl
        raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark)
    value = loader.construct_yaml_int(node)
    if abs(value) >= MAX_WHOLE:
        raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark)
    return value


def _real_timestamp(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
    """A date or time YAML recognises by its form (``2026-02-30``) that is not a real one is a
    problem at its place, not a crash."""
    try:
        return loader.construct_yaml_timestamp(node)
    except (ValueError, OverflowError) as error:
        problem = f"{node.value} is not a real date or time ({error})"
        raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark) from error


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _bounded_int)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _real_timestamp)


def parse_yaml(text: str, *, source: str, subject: str) -> object:
    """The plain data in ``text``; :class:`InvalidInput` naming ``source`` with line and column."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # _StrictLoader is a SafeLoader: no objects
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{source}, line {mark.line + 1}, column {mark.column + 1}" if mark else source
        raise InvalidInput(
            [Problem(where, str(error.problem or error))], subject=subject
        ) from error
    except yaml.reader.ReaderError as error:  # a character YAML does not allow (a NUL, say)
        line = text.count("\n", 0, error.position) + 1
        column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        code = error.character if isinstance(error.character, int) else ord(error.character)
        rule = f"character U+{code:04X} is not allowed in YAML ({error.reason})"
        where = f"{source}, line {line}, column {column}"
        raise InvalidInput([Problem(where, rule)], subject=subject) from error
    except yaml.YAMLError as error:
        raise InvalidInput([Problem(source, str(error))], subject=subject) from error


def read_text(path: Path, *, subject: str, max_bytes: int) -> str:
    """The UTF-8 text of the file at ``path``.

    Raises
    ------
    NotFound
        If there is no such file.
    InvalidInput
        If the file is larger than ``max_bytes`` or not UTF-8 text.
    """
    if not path.is_file():
        raise NotFound(subject, str(path))
    if path.stat().st_size > max_bytes:
        rule = f"larger than {max_bytes:,} bytes"
        raise InvalidInput([Problem(path.name, rule)], subject=subject)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput([Problem(path.name, "not UTF-8 text")], subject=subject) from error
