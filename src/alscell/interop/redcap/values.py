"""One value between alscell and REDCap's raw export text, with the format each kind expects.

REDCap exports raw dates as ``YYYY-MM-DD`` whatever the display format, datetimes as
``YYYY-MM-DD HH:MM:SS`` without a time zone (alscell writes and reads them as UTC), yes/no as 1/0 and
numbers in plain decimal notation. A list (rules overridden at a dose) is one item per line.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Final

__all__ = ["EXPECTED", "parse_value", "to_text"]

EXPECTED: Final = {
    "text": "text",
    "integer": "a whole number",
    "number": "a decimal number",
    "boolean": "1 (yes) or 0 (no)",
    "date": "a date as YYYY-MM-DD (REDCap date_ymd)",
    "datetime": "a date and time as YYYY-MM-DD HH:MM:SS (REDCap datetime_seconds_ymd, UTC)",
    "list": "one item per line",
}
"""What a value of each column kind must look like in the file."""

_INTEGER: Final = re.compile(r"-?\d+\Z")
_NUMBER: Final = re.compile(r"-?(\d+\.?\d*|\.\d+)\Z")
_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_DATETIME: Final = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?\Z")
_BOOLEANS: Final = {"1": True, "true": True, "0": False, "false": False}


def to_text(value: object) -> str:
    """A value as REDCap raw text; None is an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return "\n".join(str(item) for item in value)
    return str(value)


def parse_value(text: str, kind: str) -> object:
    """``text`` read as a value of ``kind``; ValueError (message: what was expected) if it is not."""
    parsed = _parse(text, kind)
    if parsed is None:
        raise ValueError(f"{text!r} is not {EXPECTED[kind]}")
    return parsed


def _parse(text: str, kind: str) -> object:
    if kind == "text":
        return text
    if kind == "list":
        return tuple(line.strip() for line in text.splitlines() if line.strip())
    if kind == "boolean":
        return _BOOLEANS.get(text.lower())
    if kind == "integer":
        return int(text) if _INTEGER.match(text) else None
    if kind == "number":
        number = float(text) if _NUMBER.match(text) else math.nan
        return number if math.isfinite(number) else None
    pattern = _DATE if kind == "date" else _DATETIME
    if not pattern.match(text):
        return None
    try:
        if kind == "date":
            return date.fromisoformat(text)
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        return None
