"""LOINC code check digits (mod 10), used to check the code tables alscell carries.

See clinical.md §1.3 (LOINC check digit). A valid check digit does not make a code *correct*; codes
marked unconfirmed stay placeholders until checked on loinc.org.
"""

from __future__ import annotations

import re

__all__ = ["is_valid_loinc", "loinc_check_digit"]

_LOINC = re.compile(r"([0-9]{1,7})-([0-9])")


def loinc_check_digit(digits: str) -> int:
    """Return the mod-10 check digit for the digits of a LOINC code before the hyphen.

    Starting with the rightmost digit, every second digit is doubled; the digits of the doubled results
    are added to the undoubled digits; the check digit is ``(10 - sum mod 10) mod 10`` (clinical.md §1.3).

    Raises
    ------
    ValueError
        If ``digits`` is empty or holds anything but ASCII digits.
    """
    if not digits or not digits.isascii() or not digits.isdigit():
        raise ValueError(f"LOINC code body must be 1-7 ASCII digits, got {digits!r}")
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            value = value // 10 + value % 10
        total += value
    return (10 - total % 10) % 10


def is_valid_loinc(code: str) -> bool:
    """Tell whether ``code`` has LOINC's shape (``NNNNN-C``) and a correct check digit."""
    match = _LOINC.fullmatch(code)
    if match is None:
        return False
    body, check = match.groups()
    return loinc_check_digit(body) == int(check)
