"""Safety errors and lifecycle refusals (errors.py): findings, messages, override and fields."""

from __future__ import annotations

import pytest

from alscell.errors import (
    AlscellError,
    Conflict,
    ContraindicationFound,
    InvalidTransition,
    Problem,
    ProductNotReleased,
    ProtocolViolation,
    SafetyCheckFailed,
)

EXPIRED = Problem("unit.expired", "G123498654321 expired on 2026-02-28")
PLATELETS = Problem("pre_puncture.platelets", "platelets >= 50 × 10^9/L: not_met (40)")


@pytest.mark.parametrize(
    "error", [SafetyCheckFailed, ContraindicationFound, ProductNotReleased, ProtocolViolation]
)
def test_a_safety_error_needs_at_least_one_finding(error: type[SafetyCheckFailed]) -> None:
    with pytest.raises(ValueError, match=f"^{error.__name__} needs at least one finding$"):
        error([])


def test_message_lists_every_finding_and_offers_an_override() -> None:
    error = SafetyCheckFailed([EXPIRED, PLATELETS])

    assert str(error) == (
        "unsafe: unit.expired: G123498654321 expired on 2026-02-28; "
        "pre_puncture.platelets: platelets >= 50 × 10^9/L: not_met (40); "
        "a physician may override with a written reason"
    )
    assert error.overridable is True


def test_a_block_that_may_not_be_overridden_does_not_offer_one() -> None:
    error = ProductNotReleased([EXPIRED], overridable=False)

    assert (
        str(error)
        == "product unit may not be given: unit.expired: G123498654321 expired on 2026-02-28"
    )
    assert "override" not in str(error)
    assert error.overridable is False


def test_rules_are_the_finding_ids_in_order() -> None:
    error = ContraindicationFound(finding for finding in [PLATELETS, EXPIRED])

    assert error.rules == ("pre_puncture.platelets", "unit.expired")
    assert error.findings == (PLATELETS, EXPIRED)


def test_safety_errors_are_alscell_errors_but_not_conflicts() -> None:
    error = ProtocolViolation([Problem("dose.out_of_range", "too many cells")])

    assert isinstance(error, AlscellError)
    assert not isinstance(error, Conflict)
    assert str(error).startswith("outside the protocol: dose.out_of_range: too many cells")


def test_invalid_transition_carries_both_states_and_the_detail() -> None:
    error = InvalidTransition("died", "follow_up", "a died patient can become: nothing")

    assert isinstance(error, Conflict)
    assert error.current == "died"
    assert error.requested == "follow_up"
    assert str(error) == "cannot go from died to follow_up: a died patient can become: nothing"
