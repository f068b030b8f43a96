"""Strict YAML for the files people write by hand: protocols and natural-history models.

YAML is read safely; a key written twice in one mapping is refused (a silent overwrite of a dose or an
interval would be dangerous), as are aliases (a few nested ones expand into gigabytes) and keys that are
lists or mappings. Problems come back as :class:`~alscell.errors.InvalidInput` with line and column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from alscell.errors import InvalidInput, NotFound, Problem

__all__ = ["parse_yaml", "read_text"]


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses aliases, keys that are not plain values, and repeated keys."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.events.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            problem = "aliases (*name) are not allowed here"
            raise yaml.composer.ComposerError(None, None, problem, mark)
        return super().compose_node(parent, index)


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


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


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
