"""The error tree (errors.py): structure, messages and structured fields."""

from __future__ import annotations

import pytest

from alscell import errors
from alscell.errors import (
    AlscellError,
    InvalidImport,
    InvalidInput,
    InvalidResponses,
    NotFound,
    PermissionDenied,
    Problem,
    SafetyCheckFailed,
)


def test_tree_matches_the_module_docstring():
    documented = errors.__doc__ or ""
    for name in errors.__all__:
        if name != "Problem":
            assert name in documented, f"{name} is missing from the tree in errors.py's docstring"


@pytest.mark.parametrize(
    ("child", "parent"),
    [(errors.InvalidResponses, InvalidInput), (errors.InvalidImport, InvalidInput),
     (errors.ContraindicationFound, SafetyCheckFailed), (errors.ProductNotReleased, SafetyCheckFailed),
     (errors.ProtocolViolation, SafetyCheckFailed), (errors.InsufficientData, AlscellError),
     (errors.Conflict, AlscellError), (errors.SmallSampleWarning, errors.StatisticalWarning),
     (errors.ModelRangeWarning, errors.StatisticalWarning), (errors.StatisticalWarning, UserWarning)],
)  # fmt: skip
def test_hierarchy(child, parent):
    assert issubclass(child, parent)


def test_every_error_documents_when_it_is_raised():
    for name in errors.__all__:
        assert getattr(errors, name).__doc__, name


def test_invalid_input_lists_every_problem_in_its_message():
    error = InvalidInput(
        [Problem("q1", "missing item"), Problem("q3", "out of range")], subject="rating"
    )

    assert str(error) == "invalid rating (2 problems): q1: missing item; q3: out of range"
    assert [p.location for p in error.problems] == ["q1", "q3"]


def test_invalid_input_needs_a_problem():
    with pytest.raises(ValueError, match="at least one problem"):
        InvalidInput([])


def test_subclasses_keep_their_context():
    responses = InvalidResponses("alsfrs-r", [Problem("q1", "missing item")])
    imported = InvalidImport([Problem("a.csv, row 2, column x", "bad")], source="a.csv")

    assert responses.scale_id == "alsfrs-r"
    assert str(responses) == "invalid alsfrs-r responses (1 problem): q1: missing item"
    assert imported.source == "a.csv"


def test_not_found_and_permission_denied_carry_fields():
    missing = NotFound("patient", 42)
    denied = PermissionDenied("nurse@site-a", "sign", "enrollment 7")

    assert (missing.kind, missing.record_id, str(missing)) == (
        "patient",
        42,
        "patient 42 was not found",
    )
    assert str(denied) == "nurse@site-a may not sign (enrollment 7)"
