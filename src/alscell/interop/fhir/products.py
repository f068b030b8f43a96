"""Cell product and what was given: lots and units (BiologicallyDerivedProduct), release tests
(Observation), and administrations (Procedure, or MedicationAdministration when a drug is named)."""

from __future__ import annotations

from typing import Final

from fhir.resources.R4B.annotation import Annotation
from fhir.resources.R4B.biologicallyderivedproduct import BiologicallyDerivedProduct
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.medicationadministration import MedicationAdministration
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.procedure import Procedure
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.reference import Reference

from alscell.domain.dataset import (
    AdministrationRecord,
    ProductLotRecord,
    ProductUnitRecord,
    ReleaseTestRecord,
)
from alscell.interop.fhir import codes
from alscell.interop.fhir.entries import Entry, Links, decimal
from alscell.interop.fhir.extensions import (
    PROTOCOL_URL,
    UNIT_URL,
    Spec,
    from_extensions,
    reference_extension,
    to_extensions,
)

LOT: Final = (
    Spec("site_code", "site-code", "string", required=True),
    Spec("source", "product-source", "string", required=True),
    Spec("cell_type", "cell-type", "string", required=True),
    Spec("manufactured_on", "manufactured-on", "date", required=True),
    Spec("received_on", "received-on", "date", required=True),
    Spec("donor_study_code", "donor-study-code", "string"),
)
UNIT: Final = (
    Spec("status", "unit-status", "code", required=True),
    Spec("cells", "cells", "decimal", required=True),
    Spec("expires_on", "expires-on", "date", required=True),
    Spec("volume_ml", "volume-ml", "decimal"),
    Spec("endotoxin_eu", "endotoxin-eu", "decimal"),
    Spec("released_at", "released-at", "datetime"),
    Spec("assigned_study_code", "assigned-study-code", "string"),
)
ADMINISTRATION: Final = (
    Spec("activity_id", "activity-id", "code", required=True),
    Spec("occurrence", "occurrence", "integer"),
    Spec("dose_cells", "dose-cells", "decimal"),
    Spec("volume_ml", "volume-ml", "decimal"),
    Spec("dose_text", "dose-text", "string"),
    Spec("duration_minutes", "duration-minutes", "integer"),
    Spec("overridden_rules", "overridden-rule", "strings"),
    Spec("override_reason", "override-reason", "string"),
)


def _din(din: str) -> Identifier:
    return Identifier(system=codes.DIN, value=din)


# ---------------------------------------------------------------- export


def to_lot(lot: ProductLotRecord) -> BiologicallyDerivedProduct:
    """A manufactured lot: identified by its lot code, the parent of its units."""
    return BiologicallyDerivedProduct(
        extension=to_extensions(lot, LOT),
        identifier=[Identifier(system=codes.LOT_CODE, value=lot.lot_code)],
        productCategory=codes.PRODUCT_CATEGORY_CELLS,
        productCode=CodeableConcept(text=lot.product_name),
    )


def to_unit(unit: ProductUnitRecord) -> BiologicallyDerivedProduct:
    """A product unit: its ISBT 128 DIN, its lot as parent (by lot code), cells, volume, expiry."""
    return BiologicallyDerivedProduct(
        extension=to_extensions(unit, UNIT),
        identifier=[_din(unit.din)],
        productCategory=codes.PRODUCT_CATEGORY_CELLS,
        status="available" if unit.status == "released" else "unavailable",
        parent=[Reference(identifier=Identifier(system=codes.LOT_CODE, value=unit.lot_code))],
    )


def to_release_test(test: ReleaseTestRecord, links: Links) -> Observation:
    """A release test of a unit: result as interpretation, the measured value if any."""
    unit_url = codes.full_url("product_units", test.din)
    return Observation(
        status="final",
        code=codes.concept(codes.RELEASE_TEST, test.test),
        focus=[links.to(unit_url, _din(test.din))],
        effectiveDateTime=test.tested_on,
        valueQuantity=None if test.value is None else Quantity(value=decimal(test.value)),
        interpretation=[codes.concept(codes.RELEASE_RESULT, test.result)],
    )


def to_administration(
    dose: AdministrationRecord, links: Links
) -> Procedure | MedicationAdministration:
    """What was given: a MedicationAdministration when a drug is named, else a Procedure (a lumbar
    puncture with its product unit, a rehabilitation session)."""
    extensions = [
        Extension(url=PROTOCOL_URL, valueReference=links.study(dose.protocol_key, dose.protocol_version)),
        *to_extensions(dose, ADMINISTRATION),
    ]  # fmt: skip
    if dose.unit_din is not None:
        unit_url = codes.full_url("product_units", dose.unit_din)
        extensions.append(
            Extension(url=UNIT_URL, valueReference=links.to(unit_url, _din(dose.unit_din)))
        )
    kind = codes.concept(codes.ADMINISTRATION_KIND, dose.kind)
    notes = None if dose.notes is None else [Annotation(text=dose.notes)]
    if dose.drug is not None:
        return MedicationAdministration(
            extension=extensions, status="completed", category=kind,
            medicationCodeableConcept=CodeableConcept(text=dose.drug),
            subject=links.subject(dose.study_code), effectiveDateTime=dose.given_on, note=notes,
        )  # fmt: skip
    return Procedure(
        extension=extensions, status="completed", category=kind,
        code=codes.concept(codes.ACTIVITY, dose.activity_id),
        subject=links.subject(dose.study_code), performedDateTime=dose.given_on, note=notes,
    )  # fmt: skip


# ---------------------------------------------------------------- import


def from_product(
    resource: BiologicallyDerivedProduct, entry: Entry
) -> ProductLotRecord | ProductUnitRecord | None:
    """A lot (identified by lot code) or a unit (identified by DIN)."""
    identifiers = {str(i.system): str(i.value) for i in resource.identifier or [] if i.value}
    if codes.DIN in identifiers:
        return _unit(resource, identifiers[codes.DIN], entry)
    if codes.LOT_CODE in identifiers:
        return _lot(resource, identifiers[codes.LOT_CODE], entry)
    entry.problem("identifier", f"needs an identifier of {codes.DIN} or {codes.LOT_CODE}")
    return None


def _lot(resource: BiologicallyDerivedProduct, code: str, entry: Entry) -> ProductLotRecord | None:
    name = entry.require(resource.productCode.text if resource.productCode else None,
                         "productCode.text")  # fmt: skip
    values = from_extensions(resource.extension, LOT, entry, path="extension")
    if not entry.ok:
        return None
    return ProductLotRecord(lot_code=code, product_name=name, origin=entry.place, **values)


def _unit(resource: BiologicallyDerivedProduct, din: str, entry: Entry) -> ProductUnitRecord | None:
    parent = resource.parent[0] if resource.parent else None
    lot = entry.identifier(parent, codes.LOT_CODE, "parent[0]")
    values = from_extensions(resource.extension, UNIT, entry, path="extension")
    if not entry.ok or lot is None:
        return None
    return ProductUnitRecord(din=din, lot_code=lot, origin=entry.place, **values)


def from_release_test(resource: Observation, entry: Entry) -> ReleaseTestRecord | None:
    """The release test of an Observation focused on a unit."""
    din = entry.identifier(resource.focus[0] if resource.focus else None, codes.DIN, "focus[0]")
    test = codes.code_in(resource.code, codes.RELEASE_TEST)
    on = entry.date(resource.effectiveDateTime, "effectiveDateTime")
    found = [codes.code_in(c, codes.RELEASE_RESULT) for c in resource.interpretation or []]
    result = next((code for code in found if code is not None), None)
    if result is None:
        entry.problem("interpretation", f"needs a code of {codes.RELEASE_RESULT}")
    quantity = resource.valueQuantity
    value = None if quantity is None or quantity.value is None else float(quantity.value)
    if not entry.ok or din is None or test is None or on is None or result is None:
        return None
    return ReleaseTestRecord(
        din=din, test=test, result=result, tested_on=on, value=value, origin=entry.place
    )


def from_administration(
    resource: Procedure | MedicationAdministration, entry: Entry
) -> AdministrationRecord | None:
    """The administration record of a Procedure or MedicationAdministration."""
    code = entry.study_code(resource.subject, "subject")
    kind = codes.code_in(resource.category, codes.ADMINISTRATION_KIND)
    if kind is None:
        entry.problem("category", f"needs a code of {codes.ADMINISTRATION_KIND}")
    if isinstance(resource, Procedure):
        on = entry.date(resource.performedDateTime, "performedDateTime")
        drug = None
    else:
        on = entry.date(resource.effectiveDateTime, "effectiveDateTime")
        medication = resource.medicationCodeableConcept
        drug = entry.require(
            medication.text if medication else None, "medicationCodeableConcept.text"
        )
    study_ref, study_path = reference_extension(resource.extension, PROTOCOL_URL)
    study = entry.study(study_ref, study_path)
    unit_ref, unit_path = reference_extension(resource.extension, UNIT_URL)
    din = None if unit_ref is None else entry.identifier(unit_ref, codes.DIN, unit_path)
    values = from_extensions(resource.extension, ADMINISTRATION, entry, path="extension")
    notes = resource.note[0].text if resource.note else None
    if not entry.ok or code is None or kind is None or on is None or study is None:
        return None
    return AdministrationRecord(
        study_code=code, protocol_key=study[0], protocol_version=study[1], kind=kind,
        given_on=on, unit_din=din, drug=drug, notes=notes, origin=entry.place, **values,
    )  # fmt: skip
