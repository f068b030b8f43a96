"""EX, PR and AE: what was given or done to a subject, and what happened to them.

An administration goes to EX when it gives a treatment: the cell product (a unit or a cell dose, or
an implantation kind) or a drug (an infusion or a medication). Everything else the protocol does
(rehabilitation, tissue harvest) is a procedure and goes to PR, with tracheostomy and permanent
assisted ventilation from the outcome events. The lumbar puncture itself is the cell product's
route (EXROUTE "INTRATHECAL"), not a separate PR row.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from alscell.domain.adverse_events import Causality
from alscell.domain.dataset import (
    AdministrationRecord,
    AdverseEventRecord,
    ClinicalDataset,
    OutcomeEventRecord,
)
from alscell.errors import InvalidInput, Problem
from alscell.interop.cdisc import codes
from alscell.interop.cdisc.tabulation import Context, Draft, Row

__all__ = ["ae_drafts", "ex_drafts", "is_cell_dose", "is_exposure", "pr_drafts"]

DRUG_KINDS: Final = frozenset({"iv_infusion", "infusion", "medication"})
CELLS_PER_UNIT: Final = 1e6
"""EXDOSU is "10^6 cells": EXDOSE = dose_cells / 10^6."""

_OUTCOME_PROCEDURES: Final = {
    "tracheostomy": "TRACHEOSTOMY",
    "permanent_ventilation": "PERMANENT ASSISTED VENTILATION",
}


def is_cell_dose(record: AdministrationRecord) -> bool:
    """Whether an administration gave the cell product."""
    return (
        record.unit_din is not None
        or record.dose_cells is not None
        or "implantation" in record.kind
    )


def is_exposure(record: AdministrationRecord) -> bool:
    """Whether an administration belongs in EX (cell product or drug) rather than PR."""
    return is_cell_dose(record) or record.drug is not None or record.kind in DRUG_KINDS


def ex_drafts(dataset: ClinicalDataset, context: Context, *, cell_route: str) -> Iterator[Draft]:
    """One EX row per cell dose, infusion or medication; extras go to SUPPEX."""
    units = {unit.din: unit for unit in dataset.product_units}
    products = {lot.lot_code: lot.product_name for lot in dataset.product_lots}
    for record in dataset.administrations:
        if not is_exposure(record):
            continue
        unit = units.get(record.unit_din or "")
        lot = unit.lot_code if unit is not None else None
        row = context.keys("EX", record.study_code) | _timing("EX", record, context)
        row |= {
            "EXREFID": record.unit_din,
            "EXSPID": _spid(record),
            "EXLOT": lot,
            "EXDOSTXT": record.dose_text,
        }
        if is_cell_dose(record):
            row |= _cell_dose(record, products.get(lot or "", "cell product"), cell_route)
        else:
            row |= _drug_dose(record)
        yield Draft(row, tuple(_ex_qualifiers(record)))


def _cell_dose(record: AdministrationRecord, product: str, cell_route: str) -> Row:
    route = codes.ROUTES.get(record.kind)
    dose = None if record.dose_cells is None else record.dose_cells / CELLS_PER_UNIT
    return {
        "EXTRT": product,
        "EXCAT": "CELL PRODUCT",
        "EXDOSE": dose,
        "EXDOSU": "10^6 cells" if dose is not None else None,
        "EXDOSFRM": "SUSPENSION",
        "EXROUTE": route.value if route is not None else cell_route,
    }


def _drug_dose(record: AdministrationRecord) -> Row:
    route = codes.ROUTES.get(record.kind)
    category = "MEDICATION" if record.kind == "medication" else "INFUSION"
    return {
        "EXTRT": record.drug or record.activity_id,
        "EXCAT": category,
        "EXROUTE": route.value if route is not None else None,
    }


def _ex_qualifiers(record: AdministrationRecord) -> Iterator[tuple[str, str]]:
    if record.volume_ml is not None:
        yield "EXVOLML", repr(record.volume_ml)
    if record.overridden_rules:
        yield "EXOVRRUL", "; ".join(record.overridden_rules)
    if record.override_reason:
        yield "EXOVRRSN", record.override_reason
    if record.notes:
        yield "EXNOTES", record.notes


def pr_drafts(dataset: ClinicalDataset, context: Context) -> Iterator[Draft]:
    """One PR row per non-treatment administration and per tracheostomy or ventilation event."""
    for record in dataset.administrations:
        if is_exposure(record):
            continue
        row = context.keys("PR", record.study_code) | _timing("PR", record, context)
        row |= {
            "PRSPID": _spid(record),
            "PRTRT": record.activity_id.replace("_", " ").replace("-", " ").upper(),
            "PRCAT": record.kind.replace("_", " ").upper(),
        }
        yield Draft(row)
    for event in dataset.outcome_events:
        yield from _outcome_procedure(event, context)


def _outcome_procedure(event: OutcomeEventRecord, context: Context) -> Iterator[Draft]:
    name = _OUTCOME_PROCEDURES.get(event.kind)
    if name is None:
        return
    day = context.day(event.study_code, event.occurred_on)
    yield Draft(
        context.keys("PR", event.study_code)
        | {"PRTRT": name, "PRCAT": "OUTCOME EVENT", "PRSTDTC": context.dtc(event.occurred_on)}
        | {"PRSTDY": day}
    )


def _timing(prefix: str, record: AdministrationRecord, context: Context) -> Row:
    on = context.dtc(record.given_on)
    day = context.day(record.study_code, record.given_on)
    minutes = record.duration_minutes
    return {
        f"{prefix}STDTC": on, f"{prefix}ENDTC": on, f"{prefix}STDY": day, f"{prefix}ENDY": day,
        f"{prefix}DUR": None if minutes is None else f"PT{minutes}M",
    }  # fmt: skip


def _spid(record: AdministrationRecord) -> str:
    return (
        record.activity_id
        if record.occurrence is None
        else f"{record.activity_id}-{record.occurrence}"
    )


# ---------------------------------------------------------------- adverse events


def ae_drafts(dataset: ClinicalDataset, context: Context) -> Iterator[Draft]:
    """One AE row per adverse event: AEREL is the relation to the cell product (SUPPAE the rest)."""
    problems = [
        Problem(event.where("seriousness"), f"unknown seriousness criterion {criterion!r}")
        for event in dataset.adverse_events
        for criterion in event.seriousness
        if criterion not in codes.SERIOUSNESS_FLAGS
    ]
    if problems:
        raise InvalidInput(problems, subject="SDTM export")
    for event in dataset.adverse_events:
        row = context.keys("AE", event.study_code) | {
            "AETERM": event.term,
            "AEDECOD": event.term,  # MedDRA is not applied: the reported term, uncoded
            "AESER": codes.NY[event.serious].value,
            "AEREL": _relation(event.causality_product),
            "AEOUT": _outcome(event).value,
            "AETOXGR": str(event.ctcae_grade),
            "AESTDTC": context.dtc(event.onset_on),
            "AEENDTC": context.dtc(event.resolved_on),
            "AESTDY": context.day(event.study_code, event.onset_on),
            "AEENDY": context.day(event.study_code, event.resolved_on),
        }
        yield Draft(row | _seriousness(event), tuple(_ae_qualifiers(event, context)))


def _seriousness(event: AdverseEventRecord) -> Row:
    met = {codes.SERIOUSNESS_FLAGS[criterion] for criterion in event.seriousness}
    flags = sorted(set(codes.SERIOUSNESS_FLAGS.values()))
    return {flag: codes.NY[flag in met].value for flag in flags}


def _outcome(event: AdverseEventRecord) -> codes.Term:
    if "death" in event.seriousness or event.ctcae_grade == 5:
        return codes.AE_OUTCOME["fatal"]
    return codes.AE_OUTCOME["resolved" if event.resolved_on is not None else "ongoing"]


def _relation(causality: str) -> str:
    return codes.AE_RELATION[Causality(causality)].value


def _ae_qualifiers(event: AdverseEventRecord, context: Context) -> Iterator[tuple[str, str]]:
    yield "AERELPRC", _relation(event.causality_procedure)
    yield "AERELDRG", _relation(event.causality_drug)
    yield "AEEXPECT", codes.NY[event.expected].value
    yield "AEAWARDT", str(context.dtc(event.aware_on))
