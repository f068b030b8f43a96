"""The patient lifecycle (DESIGN.md, "Lifecycle of a patient").

``EXPECTED`` is written out by hand from DESIGN.md's diagram and the module's documented additions:

    referred -> screening -> eligible | ineligible -> enrolled -> in_treatment -> follow_up -> completed
    withdrawn | lost_to_follow_up | died from any active state;
    an eligible or ineligible patient may be screened again; death may be recorded after completion,
    withdrawal or loss to follow-up; a patient lost to follow-up who is found again returns to follow-up.
"""

from __future__ import annotations

import itertools

import pytest

from alscell.domain.lifecycle import ACTIVE, TRANSITIONS, PatientStatus, check_transition
from alscell.errors import Conflict, InvalidTransition

S = PatientStatus
EXITS = {S.WITHDRAWN, S.LOST_TO_FOLLOW_UP, S.DIED}
EXPECTED: dict[PatientStatus, set[PatientStatus]] = {
    S.REFERRED: {S.SCREENING} | EXITS,
    S.SCREENING: {S.ELIGIBLE, S.INELIGIBLE} | EXITS,
    S.ELIGIBLE: {S.ENROLLED, S.SCREENING} | EXITS,
    S.INELIGIBLE: {S.SCREENING, S.DIED},
    S.ENROLLED: {S.IN_TREATMENT} | EXITS,
    S.IN_TREATMENT: {S.FOLLOW_UP} | EXITS,
    S.FOLLOW_UP: {S.COMPLETED} | EXITS,
    S.COMPLETED: {S.DIED},
    S.WITHDRAWN: {S.DIED},
    S.LOST_TO_FOLLOW_UP: {S.FOLLOW_UP, S.DIED},
    S.DIED: set(),
}
HAPPY_PATH = [
    S.REFERRED,
    S.SCREENING,
    S.ELIGIBLE,
    S.ENROLLED,
    S.IN_TREATMENT,
    S.FOLLOW_UP,
    S.COMPLETED,
]
PAIRS = list(itertools.product(PatientStatus, repeat=2))
ALLOWED = [(a, b) for a, b in PAIRS if b in EXPECTED[a]]
REFUSED = [(a, b) for a, b in PAIRS if b not in EXPECTED[a]]


def test_states_are_the_designed_ones() -> None:
    assert {s.value for s in PatientStatus} == {
        "referred", "screening", "eligible", "ineligible", "enrolled", "in_treatment",
        "follow_up", "completed", "withdrawn", "lost_to_follow_up", "died",
    }  # fmt: skip


def test_transition_table_is_the_designed_one() -> None:
    assert {state: set(targets) for state, targets in TRANSITIONS.items()} == EXPECTED


def test_active_states_are_those_before_an_ending() -> None:
    assert set(ACTIVE) == {
        S.REFERRED, S.SCREENING, S.ELIGIBLE, S.ENROLLED, S.IN_TREATMENT, S.FOLLOW_UP,
    }  # fmt: skip


def test_every_active_state_may_end_in_withdrawal_loss_or_death() -> None:
    for state in ACTIVE:
        assert TRANSITIONS[state] >= EXITS, state


@pytest.mark.parametrize(("current", "new"), ALLOWED)
def test_allowed_transitions_pass(current: PatientStatus, new: PatientStatus) -> None:
    check_transition(current, new)


@pytest.mark.parametrize(("current", "new"), REFUSED)
def test_refused_transitions_name_both_states(current: PatientStatus, new: PatientStatus) -> None:
    with pytest.raises(InvalidTransition) as caught:
        check_transition(current, new)

    error = caught.value
    assert isinstance(error, Conflict)
    assert error.current == current
    assert error.requested == new
    assert str(error).startswith(f"cannot go from {current.value} to {new.value}: ")


def test_refusal_lists_what_the_state_may_become() -> None:
    with pytest.raises(InvalidTransition) as caught:
        check_transition(S.REFERRED, S.ENROLLED)

    assert str(caught.value) == (
        "cannot go from referred to enrolled: a referred patient can become: "
        "died, lost_to_follow_up, screening, withdrawn"
    )


def test_samples_of_refused_transitions() -> None:
    for current, new in [
        (S.REFERRED, S.IN_TREATMENT),  # skips screening and enrolment
        (S.INELIGIBLE, S.ENROLLED),  # an ineligible patient is never enrolled
        (S.SCREENING, S.SCREENING),  # no self-loops
        (S.COMPLETED, S.FOLLOW_UP),
        (S.WITHDRAWN, S.ENROLLED),
        (S.IN_TREATMENT, S.ENROLLED),  # no going backwards
        (S.DIED, S.FOLLOW_UP),
    ]:
        with pytest.raises(InvalidTransition):
            check_transition(current, new)


@pytest.mark.parametrize("new", list(PatientStatus))
def test_died_is_final(new: PatientStatus) -> None:
    with pytest.raises(InvalidTransition, match=r"nothing \(a final state\)"):
        check_transition(S.DIED, new)


@pytest.mark.parametrize("start", [s for s in PatientStatus if s is not S.DIED])
def test_every_state_but_died_can_reach_died(start: PatientStatus) -> None:
    seen = {start}
    frontier = [start]
    while frontier:
        state = frontier.pop()
        for new in PatientStatus:
            if new not in seen and _allowed(state, new):
                seen.add(new)
                frontier.append(new)
    assert S.DIED in seen


def test_happy_path_from_referral_to_completion() -> None:
    for current, new in itertools.pairwise(HAPPY_PATH):
        check_transition(current, new)


def test_lost_patient_found_again_returns_to_follow_up() -> None:
    check_transition(S.LOST_TO_FOLLOW_UP, S.FOLLOW_UP)
    with pytest.raises(InvalidTransition):
        check_transition(S.LOST_TO_FOLLOW_UP, S.IN_TREATMENT)


def _allowed(current: PatientStatus, new: PatientStatus) -> bool:
    try:
        check_transition(current, new)
    except InvalidTransition:
        return False
    return True
