"""ISBT 128 Donation Identification Numbers and their keyboard check character (clinical.md §10).

A DIN is 13 characters: a 5-character facility identification number (a letter and four letters or
digits), a 2-digit year and a 6-digit sequence number. For manual entry a check character is computed
with ISO/IEC 7064 MOD 37-2 over the 13 characters (0-9 = 0-9, A-Z = 10-35, the supplementary ``*`` =
36). The DIN layout is UNVERIFIED in the clinical reference; MOD 37-2 itself is a standard algorithm.
"""

from __future__ import annotations

import re
from typing import Final

from alscell.errors import InvalidInput, Problem

__all__ = ["DIN_PATTERN", "check_character", "normalize_unit_id", "parse_unit_id"]

_ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
DIN_PATTERN: Final = re.compile(r"[A-Z][A-Z0-9]{4}[0-9]{2}[0-9]{6}")


def check_character(din: str) -> str:
    """The ISO/IEC 7064 MOD 37-2 check character of ``din`` (pure system, radix 2, modulus 37).

    Raises
    ------
    ValueError
        If ``din`` holds characters outside 0-9 and A-Z.
    """
    total = 0
    for char in din:
        value = _ALPHABET.find(char)
        if value < 0 or char == "*":
            raise ValueError(f"{char!r} is not a digit or capital letter")
        total = (total + value) * 2 % 37
    return _ALPHABET[(38 - total) % 37]


def normalize_unit_id(text: str) -> str:
    """Upper-case the text and drop spaces and hyphens, as scanners and people write them."""
    return re.sub(r"[\s-]", "", text).upper()


def parse_unit_id(text: str, *, field: str = "unit_id") -> str:
    """Check a typed unit identifier, DIN plus its check character, and return the 13-character DIN.

    Raises
    ------
    InvalidInput
        Naming ``field`` when the identifier is not a DIN followed by one check character, or when the
        check character is wrong (a typing error in the number).
    """
    entry = normalize_unit_id(text)
    din, check = entry[:-1], entry[-1:]
    if not DIN_PATTERN.fullmatch(din) or not check:
        rule = (
            f"must be a 13-character DIN and its check character, e.g. G123498654321H; got {text!r}"
        )
        raise InvalidInput([Problem(field, rule)], subject="product unit identifier")
    expected = check_character(din)
    if check != expected:
        rule = f"check character {check!r} does not match {din} (expected {expected!r}); retype the number"
        raise InvalidInput([Problem(field, rule)], subject="product unit identifier")
    return din
