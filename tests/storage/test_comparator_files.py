"""Comparator files: the shipped natural-history model and safety reference load, a clinic's own file
replaces them, and a wrong file is refused with the file, place and rule named."""

from __future__ import annotations

from pathlib import Path

import pytest

from alscell.errors import InvalidInput, NotFound
from alscell.storage.comparator_files import (
    builtin_natural_history,
    builtin_natural_history_path,
    builtin_safety_reference,
    builtin_safety_reference_path,
    load_safety_reference,
    natural_history_from,
    safety_reference_from,
)


def test_the_shipped_files_load_with_their_sources():
    model = builtin_natural_history()
    reference = builtin_safety_reference()

    assert all(sourced.source for _, sourced in model.parameters())
    # clinical.md §9.2: 29.5% in a prospective cohort, 22.4% cutting and 8.5% atraumatic needles
    rates = {rate.id: rate.rate.value for rate in reference.pdph_rates}
    assert rates["prospective-cohort"] == 0.295
    assert (rates["cutting-needle"], rates["atraumatic-needle"]) == (0.224, 0.085)


def test_a_clinics_own_file_replaces_the_shipped_one(tmp_path: Path) -> None:
    text = builtin_safety_reference_path().read_text(encoding="utf-8")
    own = tmp_path / "our-safety.yaml"
    own.write_text(text.replace("value: 0.295", "value: 0.31"), encoding="utf-8")

    reference = safety_reference_from(str(own))

    assert reference.get_rate("prospective-cohort").rate.value == 0.31
    assert safety_reference_from(None) == builtin_safety_reference()
    assert natural_history_from(str(builtin_natural_history_path())) == builtin_natural_history()


def test_a_wrong_value_is_named_with_the_file_and_its_path():
    text = builtin_safety_reference_path().read_text(encoding="utf-8")

    with pytest.raises(InvalidInput) as caught:
        load_safety_reference(text.replace("value: 0.295", "value: 1.7"), source="ours.yaml")

    assert "safety reference file ours.yaml" in str(caught.value)
    assert any(
        problem.location.startswith("pdph_rates[0].rate.value") for problem in caught.value.problems
    )


def test_bad_yaml_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: safety\nid: again\n", encoding="utf-8")

    with pytest.raises(InvalidInput, match=r"broken\.yaml") as caught:
        safety_reference_from(str(path))

    assert "line 2" in str(caught.value)


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="natural-history file"):
        natural_history_from(str(tmp_path / "absent.yaml"))
