"""Natural-history model files: the YAML that holds the comparator's parameters and their sources.

alscell ships one (``comparators/natural-history.yaml``, inside the package as ``alscell/comparators``);
a clinic may point ``ALSCELL_NATURAL_HISTORY_FILE`` at its own, which is read with the same strict YAML
rules as a protocol file and validated with every problem listed.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Final

from alscell.domain.natural_history import NaturalHistoryModel, parse_natural_history
from alscell.errors import InvalidInput
from alscell.storage.yaml_files import parse_yaml, read_text

__all__ = [
    "builtin_natural_history",
    "builtin_natural_history_path",
    "load_natural_history",
    "read_natural_history",
]

SUBJECT: Final = "natural-history file"
MAX_BYTES: Final = 200_000


def load_natural_history(
    text: str, *, source: str = "natural-history model"
) -> NaturalHistoryModel:
    """Parse and validate a natural-history model from YAML text.

    Raises
    ------
    InvalidInput
        For a YAML problem (with line and column) or, listing every one, the model's problems.
    """
    subject = f"{SUBJECT} {source}"
    data = parse_yaml(text, source=source, subject=subject)
    try:
        return parse_natural_history(data)
    except InvalidInput as error:
        raise InvalidInput(error.problems, subject=subject) from error


def read_natural_history(path: Path) -> NaturalHistoryModel:
    """Read and validate the model file at ``path`` (NotFound, or InvalidInput listing every problem)."""
    return load_natural_history(
        read_text(path, subject=SUBJECT, max_bytes=MAX_BYTES), source=path.name
    )


def builtin_natural_history_path() -> Path:
    """The model file shipped with alscell."""
    return Path(str(resources.files("alscell") / "comparators" / "natural-history.yaml"))


def builtin_natural_history() -> NaturalHistoryModel:
    """The model shipped with alscell."""
    return read_natural_history(builtin_natural_history_path())
