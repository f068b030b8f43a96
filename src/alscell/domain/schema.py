"""Build frozen dataclasses from plain data (parsed YAML or JSON), reporting every problem with its path.

A dataclass declares its fields with types and, where needed, constraints in the field metadata
(:func:`constraint`); cross-field rules go in a ``problems(self)`` method returning ``(field, message)``
pairs. :func:`build` walks the data once, collects every problem with its path in the file (for example
``phases[2].activities[0].window_days: must be >= 0``) and raises one
:class:`~alscell.errors.InvalidInput` listing them all, or returns the finished object.

Supported field types: ``bool``, ``int``, ``float``, ``str``, ``date``, ``StrEnum`` subclasses,
nested dataclasses, ``tuple[X, ...]``, ``Mapping[str, X]`` and ``X | None``. Numbers written as strings
(YAML reads ``5e6`` as text) and bools where numbers are expected are refused, never coerced.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import sys
import types
import typing
from collections.abc import Iterable, Mapping
from datetime import date
from enum import StrEnum
from typing import Any, Final, TypeVar

from alscell.errors import InvalidInput, Problem

__all__ = ["build", "constraint"]

T = TypeVar("T")
_MISSING = dataclasses.MISSING


def constraint(
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    pattern: str | None = None,
    min_items: int | None = None,
    doc: str = "",
) -> dict[str, Any]:
    """Field metadata: bounds for numbers, a regular expression for text, a minimum length for lists."""
    return {"ge": ge, "gt": gt, "le": le, "pattern": pattern, "min_items": min_items, "doc": doc}


def build(cls: type[T], data: object, *, subject: str = "input") -> T:
    """Validate ``data`` against dataclass ``cls`` and return the instance.

    Raises
    ------
    InvalidInput
        Listing every problem, each located by its path in ``data``.
    """
    problems: list[Problem] = []
    result = _Builder(problems).dataclass(cls, data, "")
    if problems:
        raise InvalidInput(problems, subject=subject)
    return typing.cast(T, result)


class _Builder:
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems

    def fail(self, path: str, message: str) -> None:
        self.problems.append(Problem(path or "(top level)", message))

    def dataclass(self, cls: type[Any], data: object, path: str) -> Any:
        if not isinstance(data, Mapping):
            self.fail(path, f"must be a mapping of fields, got {_kind(data)}")
            return None
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
        self._unknown_keys(data, fields, path)
        before = len(self.problems)
        values = {}
        for name, field in fields.items():
            where = _join(path, name)
            if name in data:
                values[name] = self.value(hints[name], data[name], where, field.metadata)
            elif field.default is _MISSING and field.default_factory is _MISSING:
                self.fail(where, "required field is missing")
        if len(self.problems) > before:
            return None
        instance = cls(**values)
        for name, message in getattr(instance, "problems", _no_problems)():
            self.fail(_join(path, name), message)
        return instance

    def _unknown_keys(self, data: Mapping[Any, Any], fields: Mapping[str, Any], path: str) -> None:
        for key in data:
            if key in fields:
                continue
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = (
                f"; did you mean {close[0]!r}?" if close else f"; known fields: {', '.join(fields)}"
            )
            self.fail(_join_key(path, key), f"unknown field{hint}")

    def value(self, hint: Any, data: object, path: str, meta: Mapping[str, Any]) -> Any:
        origin = typing.get_origin(hint)
        if origin in (types.UnionType, typing.Union):
            options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
            return None if data is None else self.value(options[0], data, path, meta)
        if origin is tuple:
            return self.sequence(typing.get_args(hint)[0], data, path, meta)
        if origin is Mapping or origin is dict:
            return self.mapping(typing.get_args(hint)[1], data, path, meta)
        if dataclasses.is_dataclass(hint):
            return self.dataclass(typing.cast(type[Any], hint), data, path)
        if isinstance(hint, type) and issubclass(hint, StrEnum):
            return self.enum(hint, data, path)
        return self.scalar(hint, data, path, meta)

    def sequence(self, item: Any, data: object, path: str, meta: Mapping[str, Any]) -> Any:
        if not isinstance(data, list | tuple):
            self.fail(path, f"must be a list, got {_kind(data)}")
            return ()
        minimum = meta.get("min_items")
        if minimum is not None and len(data) < minimum:
            self.fail(path, f"must have at least {minimum} item{'s' if minimum > 1 else ''}")
        return tuple(
            self.value(item, element, f"{path}[{i}]", {}) for i, element in enumerate(data)
        )

    def mapping(self, item: Any, data: object, path: str, meta: Mapping[str, Any]) -> Any:
        if not isinstance(data, Mapping):
            self.fail(path, f"must be a mapping, got {_kind(data)}")
            return {}
        result = {}
        for key, element in data.items():
            if not isinstance(key, str) or not key:
                self.fail(f"{path}.{key}", "keys must be non-empty text")
                continue
            result[key] = self.value(item, element, _join(path, key), meta)
        return types.MappingProxyType(result)

    def enum(self, enum: type[StrEnum], data: object, path: str) -> Any:
        try:
            return enum(typing.cast(str, data))
        except ValueError:
            self.fail(
                path, f"must be one of {', '.join(m.value for m in enum)}; got {_short(data)}"
            )
            return None

    def scalar(self, hint: Any, data: object, path: str, meta: Mapping[str, Any]) -> Any:
        checker = _SCALARS[hint]
        message = checker(data)
        if message is None and hint in (int, float):
            message = _bounds(typing.cast(float, data), meta)
        if message is None and hint is str and meta.get("pattern"):
            message = _pattern(typing.cast(str, data), meta["pattern"], meta.get("doc", ""))
        if message is not None:
            self.fail(path, message)
            return None
        if hint is date and isinstance(data, str):
            return date.fromisoformat(data)
        return float(typing.cast(float, data)) if hint is float else data


def _no_problems() -> Iterable[tuple[str, str]]:
    return ()


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _join_key(path: str, key: object) -> str:
    """The path of a key found in the data: a plain name as a field is named, anything else (empty,
    with spaces, dots or brackets, not text at all) in brackets as Python writes it: ``a['']``."""
    if isinstance(key, str) and _PLAIN_KEY.fullmatch(key):
        return _join(path, key)
    return f"{path}[{_short(key)}]"


_PLAIN_KEY: Final = re.compile(r"[^\s\[\].'\"]+")


def _kind(data: object) -> str:
    return (
        f"{type(data).__name__} {_short(data)}"
        if not isinstance(data, Mapping | list)
        else type(data).__name__
    )


def _short(data: object, limit: int = 60) -> str:
    """``repr`` of a value cut to ``limit`` characters: messages stay readable whatever the input."""
    if isinstance(data, int) and data.bit_length() > _REPR_BITS:  # repr() refuses past 4,300 digits
        return f"a whole number of {data.bit_length():,} bits"
    text = repr(data)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_REPR_BITS: Final = 4_000 * 3


def _check_bool(data: object) -> str | None:
    return None if isinstance(data, bool) else f"must be true or false, got {_kind(data)}"


def _check_int(data: object) -> str | None:
    if isinstance(data, bool) or not isinstance(data, int):
        return f"must be a whole number, got {_kind(data)}"
    return None


def _check_float(data: object) -> str | None:
    if isinstance(data, bool) or not isinstance(data, int | float):
        hint = " (write numbers like 5000000 or 5.0e+6)" if isinstance(data, str) else ""
        return f"must be a number, got {_kind(data)}{hint}"
    if isinstance(data, int) and abs(data) > sys.float_info.max:  # float(data) would overflow
        return f"must be a number of at most {sys.float_info.max:.3g}, got {_short(data)}"
    if not math.isfinite(data):
        return f"must be a finite number, got {_short(data)}"
    return None


def _check_str(data: object) -> str | None:
    if not isinstance(data, str) or not data.strip():
        return f"must be non-empty text, got {_kind(data)}"
    return None


def _check_date(data: object) -> str | None:
    if isinstance(data, date) and not hasattr(data, "hour"):
        return None
    if isinstance(data, str):
        try:
            date.fromisoformat(data)
        except ValueError:
            pass
        else:
            return None
    return f"must be a date written YYYY-MM-DD, got {_kind(data)}"


_SCALARS = {
    bool: _check_bool,
    int: _check_int,
    float: _check_float,
    str: _check_str,
    date: _check_date,
}


def _bounds(value: float, meta: Mapping[str, Any]) -> str | None:
    if meta.get("ge") is not None and not value >= meta["ge"]:
        return f"must be >= {meta['ge']:g}, got {_short(value)}"
    if meta.get("gt") is not None and not value > meta["gt"]:
        return f"must be > {meta['gt']:g}, got {_short(value)}"
    if meta.get("le") is not None and not value <= meta["le"]:
        return f"must be <= {meta['le']:g}, got {_short(value)}"
    return None


def _pattern(value: str, pattern: str, doc: str) -> str | None:
    if re.fullmatch(pattern, value) is None:
        return f"must be {doc or 'text matching ' + pattern}, got {_short(value)}"
    return None
