"""Protocol files: read a versioned YAML protocol and hand its data to the domain's validator.

Protocols live in ``protocols/`` (shipped inside the package as ``alscell/protocols``). YAML is read
safely; a key written twice in one mapping is refused (a silent overwrite of a dose or interval would be
dangerous), as are aliases (a few nested ones expand into gigabytes) and keys that are lists or
mappings. Every problem — syntax or schema — is reported with its place in the file.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Final

import yaml

from alscell.domain.protocol import Protocol, parse_protocol
from alscell.errors import InvalidInput, NotFound, Problem

__all__ = [
    "DEFAULT_PROTOCOL_ID",
    "builtin_protocol_path",
    "builtin_protocols",
    "load_protocol",
    "read_protocol",
]

DEFAULT_PROTOCOL_ID: Final = "als-nsc-4lp"
MAX_PROTOCOL_BYTES: Final = 1_000_000


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses aliases, keys that are not plain values, and repeated keys."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.events.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            problem = "aliases (*name) are not allowed in protocol files"
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


def load_protocol(text: str, *, source: str = "protocol") -> Protocol:
    """Parse and validate a protocol from YAML text.

    Raises
    ------
    InvalidInput
        For a YAML problem (with line and column) or, listing every one, the schema's problems (with
        their paths in the file).
    """
    subject = f"protocol file {source}"
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # _StrictLoader is a SafeLoader: no objects
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{source}, line {mark.line + 1}, column {mark.column + 1}" if mark else source
        raise InvalidInput(
            [Problem(where, str(error.problem or error))], subject=subject
        ) from error
    except yaml.YAMLError as error:
        raise InvalidInput([Problem(source, str(error))], subject=subject) from error
    try:
        return parse_protocol(data)
    except InvalidInput as error:
        raise InvalidInput(error.problems, subject=subject) from error


def read_protocol(path: Path) -> Protocol:
    """Read and validate the protocol file at ``path``.

    Raises
    ------
    NotFound
        If there is no such file.
    InvalidInput
        If the file is too large, not UTF-8 text, or not a valid protocol (every problem listed).
    """
    if not path.is_file():
        raise NotFound("protocol file", str(path))
    if path.stat().st_size > MAX_PROTOCOL_BYTES:
        rule = f"larger than {MAX_PROTOCOL_BYTES:,} bytes; a protocol file is a few kilobytes"
        raise InvalidInput([Problem(path.name, rule)], subject="protocol file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        problem = Problem(path.name, "not UTF-8 text")
        raise InvalidInput([problem], subject="protocol file") from error
    return load_protocol(text, source=path.name)


def builtin_protocols() -> dict[str, Path]:
    """The protocol files shipped with alscell, by file stem (which is also the protocol id).

    alscell is installed as files, never zipped, so the package folder is a real directory.
    """
    folder = Path(str(resources.files("alscell") / "protocols"))
    return {path.stem: path for path in sorted(folder.glob("*.yaml"))}


def builtin_protocol_path(protocol_id: str = DEFAULT_PROTOCOL_ID) -> Path:
    """Path of a built-in protocol file; :class:`NotFound` if alscell ships none with that id."""
    try:
        return builtin_protocols()[protocol_id]
    except KeyError:
        raise NotFound("built-in protocol", protocol_id) from None
