"""Measurements as Observations: ALSFRS-R (LOINC panel with item and total components), vital
capacity, weight, lab results and vital signs."""

from __future__ import annotations

from typing import Any, Final

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.observation import Observation, ObservationComponent
from fhir.resources.R4B.quantity import Quantity

from alscell.domain import alsfrs
from alscell.domain.dataset import (
    ITEM_KEYS,
    AlsfrsRecord,
    LabResultRecord,
    VitalCapacityRecord,
    VitalSignsRecord,
    WeightRecord,
)
from alscell.interop.fhir import codes
from alscell.interop.fhir.entries import Entry, Links, decimal

_CATEGORY: Final = {
    "survey": codes.concept(codes.OBSERVATION_CATEGORY, "survey"),
    "vital-signs": codes.concept(codes.OBSERVATION_CATEGORY, "vital-signs"),
    "laboratory": codes.concept(codes.OBSERVATION_CATEGORY, "laboratory"),
}
_INTEGER_SIGNS: Final = frozenset({"systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm"})


def _quantity(value: float, unit: str, *, ucum: bool = True) -> Quantity:
    return Quantity(
        value=decimal(value), unit=unit, system=codes.UCUM if ucum else None,
        code=unit if ucum else None,
    )  # fmt: skip


# ---------------------------------------------------------------- export


def to_alsfrs(rating: AlsfrsRecord, links: Links) -> Observation:
    """ALSFRS-R panel 82954-9: one component per item scored, then the total 82953-1."""
    items = [
        ObservationComponent(code=codes.item_concept(key), valueInteger=value)
        for key, value in rating.items().items()
    ]
    total = ObservationComponent(
        code=codes.concept(codes.LOINC, alsfrs.TOTAL_LOINC, "ALSFRS-R total score"),
        valueInteger=rating.total,
    )
    return Observation(
        status="final",
        category=[_CATEGORY["survey"]],
        code=codes.concept(codes.LOINC, alsfrs.PANEL_LOINC, "ALSFRS-R"),
        subject=links.subject(rating.study_code),
        effectiveDateTime=rating.rated_on,
        method=codes.concept(codes.ALSFRS_FORM, rating.form),
        component=[*items, total],
    )


def to_vital_capacity(capacity: VitalCapacityRecord, links: Links) -> Observation:
    """Vital capacity, % predicted; ``method`` says forced or slow (fvc, svc)."""
    return Observation(
        status="final",
        category=[_CATEGORY["vital-signs"]],
        code=codes.concept(codes.OBSERVATION, codes.VITAL_CAPACITY, "Vital capacity % predicted"),
        subject=links.subject(capacity.study_code),
        effectiveDateTime=capacity.measured_on,
        method=codes.concept(codes.VC_METHOD, capacity.method),
        valueQuantity=_quantity(capacity.percent_predicted, "%"),
    )


def to_weight(weight: WeightRecord, links: Links) -> Observation:
    """Body weight (LOINC 29463-7) in kg."""
    return Observation(
        status="final",
        category=[_CATEGORY["vital-signs"]],
        code=codes.concept(codes.LOINC, codes.WEIGHT_LOINC, "Body weight"),
        subject=links.subject(weight.study_code),
        effectiveDateTime=weight.measured_on,
        valueQuantity=_quantity(weight.weight_kg, "kg"),
    )


def to_lab_result(result: LabResultRecord, links: Links) -> Observation:
    """A lab result: the analyte as an alscell code, the unit as written (not checked as UCUM)."""
    return Observation(
        status="final",
        category=[_CATEGORY["laboratory"]],
        code=codes.concept(codes.ANALYTE, result.analyte),
        subject=links.subject(result.study_code),
        effectiveDateTime=result.collected_on,
        valueQuantity=_quantity(result.value, result.unit, ucum=False),
    )


def to_vital_signs(signs: VitalSignsRecord, links: Links) -> Observation:
    """One set of vital signs at an instant: a LOINC-coded component per value measured."""
    components = [
        ObservationComponent(
            code=codes.concept(codes.LOINC, code), valueQuantity=_quantity(value, unit)
        )
        for name, (code, unit) in codes.VITAL_SIGN_LOINC.items()
        if (value := getattr(signs, name)) is not None
    ]
    return Observation(
        status="final",
        category=[_CATEGORY["vital-signs"]],
        code=codes.concept(codes.OBSERVATION, codes.VITAL_SIGNS, "Vital signs"),
        subject=links.subject(signs.study_code),
        effectiveDateTime=signs.measured_at,
        component=components or None,
    )


# ---------------------------------------------------------------- import


def from_alsfrs(resource: Observation, entry: Entry) -> AlsfrsRecord | None:
    """The ALSFRS-R rating of a panel Observation."""
    code = entry.study_code(resource.subject, "subject")
    on = entry.date(resource.effectiveDateTime, "effectiveDateTime")
    form = codes.code_in(resource.method, codes.ALSFRS_FORM)
    if form is None:
        entry.problem("method", f"needs a code of {codes.ALSFRS_FORM} (clinician or self)")
    scores = _alsfrs_components(resource.component or [], entry)
    missing = [key for key in (*ITEM_KEYS, "total") if key not in scores]
    for key in missing:
        if key not in ("q5a", "q5b"):
            entry.problem("component", f"has no {key}")
    if not entry.ok or code is None or on is None or form is None:
        return None
    return AlsfrsRecord(study_code=code, rated_on=on, form=form, origin=entry.place, **scores)


def _alsfrs_components(components: list[ObservationComponent], entry: Entry) -> dict[str, Any]:
    scores: dict[str, Any] = {}
    for index, component in enumerate(components):
        path = f"component[{index}]"
        if codes.code_in(component.code, codes.LOINC) == alsfrs.TOTAL_LOINC:
            key: str | None = "total"
        else:
            key = codes.item_key(component.code)
        if key is None:
            entry.problem(f"{path}.code", "is not an ALSFRS-R item or total code")
        elif key in scores:
            entry.problem(f"{path}.code", f"repeats {key}")
        elif component.valueInteger is None:
            entry.problem(f"{path}.valueInteger", "is required")
        else:
            scores[key] = component.valueInteger
    return scores


def from_vital_capacity(resource: Observation, entry: Entry) -> VitalCapacityRecord | None:
    """The vital capacity record of an Observation."""
    code = entry.study_code(resource.subject, "subject")
    on = entry.date(resource.effectiveDateTime, "effectiveDateTime")
    value = _value(resource.valueQuantity, "valueQuantity", entry)
    method = codes.code_in(resource.method, codes.VC_METHOD)
    if method is None:
        entry.problem("method", f"needs a code of {codes.VC_METHOD}")
    if not entry.ok or code is None or on is None or value is None or method is None:
        return None
    return VitalCapacityRecord(
        study_code=code, measured_on=on, percent_predicted=value, method=method,
        origin=entry.place,
    )  # fmt: skip


def from_weight(resource: Observation, entry: Entry) -> WeightRecord | None:
    """The weight record of a body weight Observation."""
    code = entry.study_code(resource.subject, "subject")
    on = entry.date(resource.effectiveDateTime, "effectiveDateTime")
    value = _value(resource.valueQuantity, "valueQuantity", entry)
    if not entry.ok or code is None or on is None or value is None:
        return None
    return WeightRecord(study_code=code, measured_on=on, weight_kg=value, origin=entry.place)


def from_lab_result(resource: Observation, entry: Entry) -> LabResultRecord | None:
    """The lab result record of a laboratory Observation."""
    code = entry.study_code(resource.subject, "subject")
    on = entry.date(resource.effectiveDateTime, "effectiveDateTime")
    analyte = codes.code_in(resource.code, codes.ANALYTE)
    value = _value(resource.valueQuantity, "valueQuantity", entry)
    unit = entry.require(resource.valueQuantity.unit if resource.valueQuantity else None,
                         "valueQuantity.unit")  # fmt: skip
    if not entry.ok or code is None or on is None or analyte is None or value is None:
        return None
    return LabResultRecord(
        study_code=code, collected_on=on, analyte=analyte, value=value, unit=unit,
        origin=entry.place,
    )  # fmt: skip


def from_vital_signs(resource: Observation, entry: Entry) -> VitalSignsRecord | None:
    """The vital signs record of a vital signs Observation."""
    code = entry.study_code(resource.subject, "subject")
    at = entry.instant(resource.effectiveDateTime, "effectiveDateTime")
    by_code = {loinc: name for name, (loinc, _) in codes.VITAL_SIGN_LOINC.items()}
    values: dict[str, Any] = {}
    for index, component in enumerate(resource.component or []):
        path = f"component[{index}]"
        name = by_code.get(codes.code_in(component.code, codes.LOINC) or "")
        if name is None or name in values:
            entry.problem(f"{path}.code", "is not a vital sign code, or repeats one")
            continue
        value = _value(component.valueQuantity, f"{path}.valueQuantity", entry)
        if value is not None and name in _INTEGER_SIGNS:
            value = entry.integer(decimal(value), f"{path}.valueQuantity.value")
        values[name] = value
    if not entry.ok or code is None or at is None:
        return None
    return VitalSignsRecord(study_code=code, measured_at=at, origin=entry.place, **values)


def _value(quantity: Quantity | None, path: str, entry: Entry) -> float | None:
    if quantity is None or quantity.value is None:
        entry.problem(f"{path}.value" if quantity else path, "is required")
        return None
    return float(quantity.value)


def observation_kind(code: CodeableConcept) -> str | None:
    """Which record an Observation holds, by its code: a record table name, or None if unknown."""
    loinc = codes.code_in(code, codes.LOINC)
    own = codes.code_in(code, codes.OBSERVATION)
    known = {
        (codes.LOINC, alsfrs.PANEL_LOINC): "alsfrs_ratings",
        (codes.LOINC, codes.WEIGHT_LOINC): "weights",
        (codes.OBSERVATION, codes.VITAL_CAPACITY): "vital_capacities",
        (codes.OBSERVATION, codes.VITAL_SIGNS): "vital_signs",
        (codes.OBSERVATION, codes.SCREENING): "screenings",
        (codes.OBSERVATION, codes.OUTCOME_EVENT): "outcome_events",
    }
    kind = known.get((codes.LOINC, loinc or "")) or known.get((codes.OBSERVATION, own or ""))
    if kind is None and codes.code_in(code, codes.ANALYTE) is not None:
        return "lab_results"
    if kind is None and codes.code_in(code, codes.RELEASE_TEST) is not None:
        return "release_tests"
    return kind
