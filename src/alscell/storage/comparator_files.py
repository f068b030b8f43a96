"""Comparator files: the YAML that holds published reference figures with their sources.

alscell ships two, inside the package as ``alscell/comparators``:

- ``natural-history.yaml``, the natural-history model's parameters
  (:class:`~alscell.domain.stats.natural_history.NaturalHistoryModel`); a clinic may point
  ``ALSCELL_NATURAL_HISTORY_FILE`` at its own;
- ``safety.yaml``, which reported terms count as post-dural-puncture headache and the published rates
  per lumbar puncture (:class:`~alscell.domain.stats.safety_rates.SafetyReference`); a clinic may point
  ``ALSCELL_SAFETY_REFERENCE_FILE`` at its own.

Each is read with the same strict YAML rules as a protocol file and validated with every problem listed.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Final, TypeVar

from alscell.domain.stats.natural_history import NaturalHistoryModel, parse_natural_history
from alscell.domain.stats.safety_rates import SafetyReference, parse_safety_reference
from alscell.errors import InvalidInput
from alscell.storage.yaml_files import parse_yaml, read_text

__all__ = [
    "builtin_natural_history",
    "builtin_natural_history_path",
    "builtin_safety_reference",
    "builtin_safety_reference_path",
    "load_natural_history",
    "load_safety_reference",
    "natural_history_from",
    "read_natural_history",
    "read_safety_reference",
    "safety_reference_from",
]

MAX_BYTES: Final = 200_000
NATURAL_HISTORY: Final = "natural-history file"
SAFETY: Final = "safety reference file"

T = TypeVar("T")


def _load(text: str, *, source: str, kind: str, parse: Callable[[object], T]) -> T:
    subject = f"{kind} {source}"
    data = parse_yaml(text, source=source, subject=subject)
    try:
        return parse(data)
    except InvalidInput as error:
        raise InvalidInput(error.problems, subject=subject) from error


def _builtin(name: str) -> Path:
    return Path(str(resources.files("alscell") / "comparators" / name))


def load_natural_history(
    text: str, *, source: str = "natural-history model"
) -> NaturalHistoryModel:
    """Parse and validate a natural-history model from YAML text.

    Raises
    ------
    InvalidInput
        For a YAML problem (with line and column) or, listing every one, the model's problems.
    """
    return _load(text, source=source, kind=NATURAL_HISTORY, parse=parse_natural_history)


def read_natural_history(path: Path) -> NaturalHistoryModel:
    """Read and validate the model file at ``path`` (NotFound, or InvalidInput listing every problem)."""
    text = read_text(path, subject=NATURAL_HISTORY, max_bytes=MAX_BYTES)
    return load_natural_history(text, source=path.name)


def builtin_natural_history_path() -> Path:
    """The natural-history model file shipped with alscell."""
    return _builtin("natural-history.yaml")


def builtin_natural_history() -> NaturalHistoryModel:
    """The natural-history model shipped with alscell."""
    return read_natural_history(builtin_natural_history_path())


def load_safety_reference(text: str, *, source: str = "safety reference") -> SafetyReference:
    """Parse and validate a safety reference (PDPH terms and published rates) from YAML text.

    Raises
    ------
    InvalidInput
        For a YAML problem (with line and column) or, listing every one, the file's problems.
    """
    return _load(text, source=source, kind=SAFETY, parse=parse_safety_reference)


def read_safety_reference(path: Path) -> SafetyReference:
    """Read and validate the safety reference at ``path`` (NotFound, or InvalidInput listing every
    problem)."""
    text = read_text(path, subject=SAFETY, max_bytes=MAX_BYTES)
    return load_safety_reference(text, source=path.name)


def builtin_safety_reference_path() -> Path:
    """The safety reference file shipped with alscell."""
    return _builtin("safety.yaml")


def builtin_safety_reference() -> SafetyReference:
    """The safety reference shipped with alscell."""
    return read_safety_reference(builtin_safety_reference_path())


def natural_history_from(path: str | None) -> NaturalHistoryModel:
    """The model in the file at ``path`` (a clinic's own), or the shipped one when None."""
    return read_natural_history(Path(path)) if path else builtin_natural_history()


def safety_reference_from(path: str | None) -> SafetyReference:
    """The safety reference in the file at ``path`` (a clinic's own), or the shipped one when None."""
    return read_safety_reference(Path(path)) if path else builtin_safety_reference()
