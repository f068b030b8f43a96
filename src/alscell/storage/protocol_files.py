"""Protocol files: read a versioned YAML protocol and hand its data to the domain's validator.

Protocols live in ``protocols/`` (shipped inside the package as ``alscell/protocols``). YAML is read
safely; a key written twice in one mapping is refused (a silent overwrite of a dose or interval would be
dangerous), as are aliases (a few nested ones expand into gigabytes) and keys that are lists or
mappings. Every problem — syntax or schema — is reported with its place in the file.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Final

from alscell.domain.protocol import Protocol, parse_protocol
from alscell.errors import InvalidInput, NotFound
from alscell.storage.yaml_files import parse_yaml, read_text

__all__ = [
    "DEFAULT_PROTOCOL_ID",
    "builtin_protocol_path",
    "builtin_protocols",
    "load_protocol",
    "read_protocol",
]

DEFAULT_PROTOCOL_ID: Final = "als-nsc-4lp"
MAX_PROTOCOL_BYTES: Final = 1_000_000


def load_protocol(text: str, *, source: str = "protocol") -> Protocol:
    """Parse and validate a protocol from YAML text.

    Raises
    ------
    InvalidInput
        For a YAML problem (with line and column) or, listing every one, the schema's problems (with
        their paths in the file).
    """
    subject = f"protocol file {source}"
    data = parse_yaml(text, source=source, subject=subject)
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
    text = read_text(path, subject="protocol file", max_bytes=MAX_PROTOCOL_BYTES)
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
