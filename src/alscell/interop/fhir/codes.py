"""Code systems, codes, identifier systems and extension URLs of alscell's FHIR R4B export.

External codes are used only where a source confirms them; everything else is an alscell code system
under the one prefix ``urn:alscell:`` (docs/fhir.md lists each with its status).

Sources
-------
- ALSFRS-R LOINC codes: clinical.md §1.3 (panel 82954-9 and total 82953-1 VERIFIED-1; of the items
  only 1, 2 and 8 are confirmed, the rest are placeholders and are *not* exported as LOINC).
- Body weight 29463-7, systolic 8480-6, diastolic 8462-4, heart rate 8867-4, body temperature 8310-5,
  oxygen saturation by pulse oximetry 59408-5: the FHIR R4 vital signs profile
  (http://hl7.org/fhir/R4/observation-vitalsigns.html).
- Vital capacity % predicted: no LOINC code confirmed (19876-2 is a forced vital capacity *volume*
  in litres, not % predicted), so an alscell code.
- Amyotrophic lateral sclerosis (disorder) SNOMED CT 86044005: SNOMED CT International Edition.
  clinical.md does not list it; confirm it in a SNOMED CT browser before relying on it.
- Observation category, condition clinical/verification status, consent scope, adverse event
  seriousness and severity: HL7 terminology (http://terminology.hl7.org/CodeSystem/...), the value
  sets bound in FHIR R4B.
- UCUM units (http://unitsofmeasure.org): %, kg, mm[Hg], /min, Cel, mL. Lab units are carried as
  written (``Quantity.unit`` only): they are not checked against UCUM.
- CTCAE grades: CTCAE v5.0 (clinical.md §9.3), as an alscell code system because the NCI thesaurus
  URI names CTCAE *terms*, not grades.
"""

from __future__ import annotations

import uuid
from typing import Final

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding

from alscell.domain import alsfrs

PREFIX: Final = "urn:alscell:"

# ---------------------------------------------------------------- external code systems
LOINC: Final = "http://loinc.org"
SNOMED: Final = "http://snomed.info/sct"
UCUM: Final = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL: Final = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION: Final = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONSENT_SCOPE: Final = "http://terminology.hl7.org/CodeSystem/consentscope"
AE_SERIOUSNESS: Final = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
AE_SEVERITY: Final = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"

ALS_SNOMED: Final = "86044005"
WEIGHT_LOINC: Final = "29463-7"
VITAL_SIGN_LOINC: Final = {
    "systolic_mmhg": ("8480-6", "mm[Hg]"),
    "diastolic_mmhg": ("8462-4", "mm[Hg]"),
    "heart_rate_bpm": ("8867-4", "/min"),
    "temperature_c": ("8310-5", "Cel"),
    "spo2_percent": ("59408-5", "%"),
}
"""Vital signs record field -> (LOINC code, UCUM unit) from the FHIR R4 vital signs profile."""

# ---------------------------------------------------------------- alscell identifier systems
STUDY_CODE: Final = f"{PREFIX}study-code"
MRN: Final = f"{PREFIX}mrn"
DIN: Final = f"{PREFIX}din"
LOT_CODE: Final = f"{PREFIX}lot-code"
PROTOCOL: Final = f"{PREFIX}protocol"
BUNDLE: Final = f"{PREFIX}bundle"
PRODUCTS: Final = "products"
"""Name of the bundle holding product lots and the units assigned to no exported patient."""


# ---------------------------------------------------------------- alscell code systems
def system(name: str) -> str:
    """The URI of an alscell code system."""
    return f"{PREFIX}fhir:code-system:{name}"


def extension_url(name: str) -> str:
    """The URL of an alscell extension."""
    return f"{PREFIX}fhir:extension:{name}"


OBSERVATION: Final = system("observation")
ALSFRS_ITEM: Final = system("alsfrs-r-item")
ALSFRS_FORM: Final = system("alsfrs-r-form")
VC_METHOD: Final = system("vital-capacity-method")
ANALYTE: Final = system("analyte")
ACTIVITY: Final = system("activity")
ADMINISTRATION_KIND: Final = system("administration-kind")
OUTCOME_KIND: Final = system("outcome-kind")
SCREENING_OUTCOME: Final = system("screening-outcome")
SCHEDULE_EVENT_KIND: Final = system("schedule-event-kind")
PLANNED_STATUS: Final = system("planned-activity-status")
RELEASE_TEST: Final = system("release-test")
RELEASE_RESULT: Final = system("release-test-result")
PRODUCT_CATEGORY_CELLS: Final = "cells"
CONSENT_CATEGORY: Final = system("consent-category")
CAUSALITY: Final = system("causality")
CTCAE_GRADE: Final = system("ctcae-grade")
CTCAE_VERSION: Final = "5.0"

SCREENING: Final = "screening"
VITAL_CAPACITY: Final = "vital-capacity-percent-predicted"
VITAL_SIGNS: Final = "vital-signs"
OUTCOME_EVENT: Final = "outcome-event"
DEATH: Final = "death"

ITEM_BY_LOINC: Final = {item.loinc: item.key for item in alsfrs.ITEMS if item.loinc_confirmed}
"""Item keys by LOINC code, for the items whose code is confirmed (clinical.md §1.3)."""
ITEM_BY_NUMBER: Final = {item.number: item.key for item in alsfrs.ITEMS}
"""Item keys by item number ("1" .. "12", "5a", "5b") in the alscell ALSFRS-R item system."""

_NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, f"{PREFIX}fhir")


def full_url(*parts: object) -> str:
    """A deterministic ``urn:uuid`` for a resource named by its table and key."""
    name = "|".join("" if part is None else str(part) for part in parts)
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, name)}"


def coding(system_uri: str, code: str) -> Coding:
    """A Coding of a system and code (no display: displays are not checked against the source)."""
    return Coding(system=system_uri, code=code)


def concept(system_uri: str, code: str, text: str | None = None) -> CodeableConcept:
    """A CodeableConcept with one coding."""
    return CodeableConcept(coding=[coding(system_uri, code)], text=text)


def item_concept(key: str) -> CodeableConcept:
    """An ALSFRS-R item: its LOINC code when confirmed, always its alscell item number."""
    item = alsfrs.ITEM_BY_KEY[key]
    codings = [coding(LOINC, item.loinc)] if item.loinc_confirmed else []
    codings.append(coding(ALSFRS_ITEM, item.number))
    return CodeableConcept(coding=codings, text=item.name)


def item_key(codeable: CodeableConcept) -> str | None:
    """The item key an ALSFRS-R component names, or None when no coding is known."""
    for code in codeable.coding or []:
        if code.system == LOINC and code.code in ITEM_BY_LOINC:
            return ITEM_BY_LOINC[code.code]
        if code.system == ALSFRS_ITEM and code.code in ITEM_BY_NUMBER:
            return ITEM_BY_NUMBER[code.code]
    return None


def code_in(codeable: CodeableConcept | None, system_uri: str) -> str | None:
    """The code of the first coding of ``system_uri``, or None."""
    for code in (codeable.coding or []) if codeable is not None else []:
        if code.system == system_uri and code.code is not None:
            return str(code.code)
    return None
