"""CAFS against an imported comparator cohort (domain/analyses.py with ``comparator``).

The cohort of tests/domain/test_analyses.py, against a hand-made external cohort at the horizon
:func:`cafs_horizon_months` gives, checked here against the mean months from baseline to the time point.
"""

from __future__ import annotations

import numpy as np
import pytest

from alscell.domain import analyses as an
from alscell.domain import evaluation as ev
from alscell.domain.stats.cafs import Outcomes
from tests.domain.test_analyses import (
    BANNED,
    CUTOFF,
    DAYS_PER_MONTH,
    SEED,
    cohort,
    design,
    model,
    protocol,
    reference,
    run,
)  # fmt: skip

__all__ = ["model", "protocol", "reference"]  # fixtures used below


def external(horizon: float) -> Outcomes:
    """Four subjects: two died (months 1 and 2), one lost 6 points, one alive without a rating."""
    return Outcomes(
        horizon, np.array([1.0, 2.0, np.nan, np.nan]), np.array([np.nan, np.nan, -6.0, np.nan])
    )


def test_cafs_uses_the_imported_cohort_at_the_programs_horizon(protocol, model, reference):
    courses = cohort()
    evaluation = ev.evaluate(courses, protocol, design=design(), plan_locked=True, model=model, cutoff=CUTOFF,
                             seed=SEED, draws=400)  # fmt: skip
    horizon = an.cafs_horizon_months(courses, evaluation)
    expected = np.mean([(p.target_on - p.baseline.rated_on).days / DAYS_PER_MONTH
                        for p in evaluation.patients if p.target_on and p.baseline])  # fmt: skip
    assert horizon is not None
    assert horizon == pytest.approx(expected)

    _, done = run(
        courses,
        protocol,
        model,
        reference,
        comparator=external(horizon),
        comparator_label="PRO-ACT 2026",
    )

    assert done.cafs is not None
    assert (done.cafs.comparator.n, done.cafs.comparator.deaths, done.cafs.comparator.excluded) == (
        3,
        2,
        1,
    )
    assert done.comparator_label == "PRO-ACT 2026"
    [said] = [s for s in an.analyses_statement(done, evaluation) if "CAFS" in s]
    assert (
        "against 3 patients of the imported comparator cohort PRO-ACT 2026 (external, not concurrent; "
        "selection differs)" in said
    )
    assert "simulated" not in said
    assert not BANNED.search(said)


def test_a_comparator_at_another_horizon_is_noted_not_compared(protocol, model, reference):
    _, done = run(
        cohort(), protocol, model, reference, comparator=external(3.0), comparator_label="X"
    )

    assert done.cafs is None
    assert any(note.startswith("CAFS: invalid CAFS comparison") for note in done.notes)


def test_without_patients_due_there_is_no_horizon(protocol, model, reference):
    courses = cohort()[:1]
    evaluation, done = run(courses, protocol, model, reference)
    assert an.cafs_horizon_months(courses, evaluation) is None
    assert done.comparator_label is None
