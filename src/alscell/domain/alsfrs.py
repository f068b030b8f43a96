"""ALSFRS-R, the revised ALS Functional Rating Scale: items as data, validation and scoring.

Twelve items scored 0-4 (4 = normal); item 5 is scored as 5a (no gastrostomy) or 5b (gastrostomy),
exactly one per rating, so the total is always out of 48. Four domains of three items each
(bulbar, fine motor, gross motor, respiratory), each 0-12. See clinical.md §1.1 (items, 5a/5b rule),
§1.2 (domains) and §1.3 (LOINC codes).

The anchors below are paraphrased for scoring logic and staff reference; screens shown to patients
must use the official wording of Cedarbaum et al. 1999. Item 11's anchors are unverified
(clinical.md §1.1) and the LOINC codes marked unconfirmed are placeholders (clinical.md §1.3).

References
----------
Cedarbaum JM et al. The ALSFRS-R: a revised ALS functional rating scale that incorporates assessments
of respiratory function. J Neurol Sci 1999;169:13-21.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from numbers import Integral
from typing import Final, cast

from alscell.errors import InvalidResponses, Problem

__all__ = [
    "ITEMS",
    "ITEM_BY_KEY",
    "MAX_ITEM_SCORE",
    "MAX_TOTAL",
    "PANEL_LOINC",
    "SCALE_ID",
    "SCALE_VERSION",
    "TOTAL_LOINC",
    "AlsfrsResult",
    "Domain",
    "Item",
    "score",
    "validate",
]

SCALE_ID: Final = "alsfrs-r"
SCALE_VERSION: Final = "ALSFRS-R (Cedarbaum 1999), clinician-administered"
MAX_ITEM_SCORE: Final = 4
MAX_TOTAL: Final = 48
PANEL_LOINC: Final = "82954-9"
TOTAL_LOINC: Final = "82953-1"


class Domain(StrEnum):
    """The four ALSFRS-R domains (clinical.md §1.2)."""

    BULBAR = "bulbar"
    FINE_MOTOR = "fine_motor"
    GROSS_MOTOR = "gross_motor"
    RESPIRATORY = "respiratory"


@dataclass(frozen=True, slots=True)
class Item:
    """One ALSFRS-R item: its key in a response mapping, label, domain, anchors and LOINC code.

    ``anchors[score]`` describes that score (index 0 = no function, 4 = normal).
    ``loinc_confirmed`` and ``anchors_verified`` carry the confidence of clinical.md §1.1 and §1.3.
    """

    key: str
    number: str
    name: str
    domain: Domain
    anchors: tuple[str, str, str, str, str]
    loinc: str
    loinc_confirmed: bool
    anchors_verified: bool = True


ITEMS: Final[tuple[Item, ...]] = (
    Item("q1", "1", "Speech", Domain.BULBAR,
         ("no useful speech", "speech combined with non-vocal communication",
          "intelligible only with repeating", "detectable speech disturbance", "normal speech"),
         "82940-8", loinc_confirmed=True),
    Item("q2", "2", "Salivation", Domain.BULBAR,
         ("marked drooling, needs tissue constantly", "marked excess saliva with some drooling",
          "moderately excessive saliva, may have minimal drooling",
          "slight but definite excess saliva, may have night-time drooling", "normal"),
         "82941-6", loinc_confirmed=True),
    Item("q3", "3", "Swallowing", Domain.BULBAR,
         ("nothing by mouth; exclusively enteral or parenteral feeding",
          "needs supplemental tube feeding", "dietary consistency changes",
          "early eating problems, occasional choking", "normal eating habits"),
         "82942-4", loinc_confirmed=False),
    Item("q4", "4", "Handwriting", Domain.FINE_MOTOR,
         ("unable to grip pen", "able to grip pen but unable to write",
          "not all words legible", "slow or sloppy, all words legible", "normal"),
         "82943-2", loinc_confirmed=False),
    Item("q5a", "5a", "Cutting food and handling utensils (no gastrostomy)", Domain.FINE_MOTOR,
         ("needs to be fed", "food must be cut by someone, but can still feed slowly",
          "can cut most foods, slow and clumsy, some help needed",
          "somewhat slow and clumsy, no help needed", "normal"),
         "82944-0", loinc_confirmed=False),
    Item("q5b", "5b", "Cutting food and handling utensils (gastrostomy)", Domain.FINE_MOTOR,
         ("unable to perform any aspect of the task", "provides minimal assistance to caregiver",
          "some help needed with closures and fasteners",
          "clumsy but able to perform all manipulations independently", "normal"),
         "82945-7", loinc_confirmed=False),
    Item("q6", "6", "Dressing and hygiene", Domain.FINE_MOTOR,
         ("total dependence", "needs attendant for self-care",
          "intermittent assistance or substitute methods",
          "independent and complete self-care with effort or decreased efficiency", "normal"),
         "82946-5", loinc_confirmed=False),
    Item("q7", "7", "Turning in bed and adjusting bedclothes", Domain.GROSS_MOTOR,
         ("helpless", "can initiate, but not turn or adjust sheets alone",
          "can turn alone or adjust sheets, but with great difficulty",
          "somewhat slow and clumsy, but no help needed", "normal"),
         "82947-3", loinc_confirmed=False),
    Item("q8", "8", "Walking", Domain.GROSS_MOTOR,
         ("no purposeful leg movement", "non-ambulatory functional movement only",
          "walks with assistance", "early ambulation difficulties", "normal"),
         "82948-1", loinc_confirmed=True),
    Item("q9", "9", "Climbing stairs", Domain.GROSS_MOTOR,
         ("cannot do", "needs assistance", "mild unsteadiness or fatigue", "slow", "normal"),
         "82949-9", loinc_confirmed=False),
    Item("q10", "10", "Dyspnea", Domain.RESPIRATORY,
         ("significant difficulty, considering mechanical respiratory support",
          "occurs at rest, sitting or lying", "occurs with eating, bathing or dressing",
          "occurs when walking", "none"),
         "82950-7", loinc_confirmed=False),
    Item("q11", "11", "Orthopnea", Domain.RESPIRATORY,
         ("unable to sleep", "can only sleep sitting up",
          "needs extra pillows (more than two) to sleep",
          "some difficulty sleeping at night due to shortness of breath, does not routinely "
          "use more than two pillows", "none"),
         "82951-5", loinc_confirmed=False, anchors_verified=False),
    Item("q12", "12", "Respiratory insufficiency", Domain.RESPIRATORY,
         ("invasive mechanical ventilation by intubation or tracheostomy",
          "continuous use of BiPAP during the night and day", "continuous use of BiPAP during the night",
          "intermittent use of BiPAP", "none"),
         "82952-3", loinc_confirmed=False),
)  # fmt: skip

ITEM_BY_KEY: Final[Mapping[str, Item]] = {item.key: item for item in ITEMS}
_ITEM5: Final = ("q5a", "q5b")
_REQUIRED: Final = tuple(item.key for item in ITEMS if item.key not in _ITEM5)


@dataclass(frozen=True, slots=True)
class AlsfrsResult:
    """A scored ALSFRS-R rating: total 0-48, four domain subscores 0-12, and whether 5b was used."""

    total: int
    bulbar: int
    fine_motor: int
    gross_motor: int
    respiratory: int
    gastrostomy: bool
    scale_version: str = SCALE_VERSION

    @property
    def domains(self) -> Mapping[Domain, int]:
        """Subscores by domain."""
        return {
            Domain.BULBAR: self.bulbar,
            Domain.FINE_MOTOR: self.fine_motor,
            Domain.GROSS_MOTOR: self.gross_motor,
            Domain.RESPIRATORY: self.respiratory,
        }


def validate(items: Mapping[str, object]) -> dict[str, int]:
    """Check a rating against the scale and return its responses as plain ints, keyed ``q1``..``q12``.

    The mapping needs ``q1``..``q12`` without ``q5``, plus exactly one of ``q5a`` (no gastrostomy) or
    ``q5b`` (gastrostomy), each an int 0-4 (clinical.md §1.1).

    Raises
    ------
    InvalidResponses
        Listing every problem at once: unknown key, missing item, both or neither of 5a/5b, a value
        that is not an int (bools and floats included), or a value outside 0-4.
    """
    problems = _unknown_keys(items) + _missing_items(items) + _bad_values(items)
    if problems:
        raise InvalidResponses(SCALE_ID, problems)
    return {key: int(cast(Integral, value)) for key, value in items.items()}


def score(items: Mapping[str, object]) -> AlsfrsResult:
    """Score one ALSFRS-R rating (clinical.md §1.1, §1.2).

    Parameters
    ----------
    items
        Responses keyed ``q1``..``q12`` with exactly one of ``q5a``/``q5b``; each an int 0-4.

    Returns
    -------
    AlsfrsResult
        Total = sum of the 12 scored items; each domain = sum of its three items;
        ``gastrostomy`` is True when item 5 was scored as 5b.

    Raises
    ------
    InvalidResponses
        If anything is wrong with the responses; every problem is listed (see :func:`validate`).
    """
    responses = validate(items)
    subscores = dict.fromkeys(Domain, 0)
    for key, value in responses.items():
        subscores[ITEM_BY_KEY[key].domain] += value
    return AlsfrsResult(
        total=sum(subscores.values()),
        bulbar=subscores[Domain.BULBAR],
        fine_motor=subscores[Domain.FINE_MOTOR],
        gross_motor=subscores[Domain.GROSS_MOTOR],
        respiratory=subscores[Domain.RESPIRATORY],
        gastrostomy="q5b" in responses,
    )


def _unknown_keys(items: Mapping[str, object]) -> list[Problem]:
    problems = []
    for key in items:
        if key in ITEM_BY_KEY:
            continue
        rule = "unknown item; ALSFRS-R items are q1..q12 with q5 given as q5a or q5b"
        if key == "q5":
            rule = "item 5 must be given as q5a (no gastrostomy) or q5b (gastrostomy), not q5"
        problems.append(Problem(str(key), rule))
    return problems


def _missing_items(items: Mapping[str, object]) -> list[Problem]:
    problems = [Problem(key, "missing item") for key in _REQUIRED if key not in items]
    given = [key for key in _ITEM5 if key in items]
    if not given:
        rule = "missing item 5: give exactly one of q5a (no gastrostomy) or q5b (gastrostomy)"
        problems.append(Problem("q5a/q5b", rule))
    elif len(given) == 2:
        rule = "both given: score item 5 as q5a (no gastrostomy) or q5b (gastrostomy), not both"
        problems.append(Problem("q5a/q5b", rule))
    return problems


def _bad_values(items: Mapping[str, object]) -> list[Problem]:
    problems = []
    for item in ITEMS:
        if item.key not in items:
            continue
        value = items[item.key]
        if isinstance(value, bool) or not isinstance(value, Integral):
            problems.append(Problem(item.key, f"not an int: got {value!r}"))
        elif not 0 <= int(value) <= MAX_ITEM_SCORE:
            problems.append(
                Problem(item.key, f"out of range: {value} is not in 0-{MAX_ITEM_SCORE}")
            )
    return problems
