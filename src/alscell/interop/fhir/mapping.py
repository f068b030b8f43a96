"""The clinical data set as FHIR R4B bundles and back (pure: no files, no clock).

One ``collection`` Bundle per patient (every record naming that study code) and one more,
``products``, for the product lots and the units assigned to no exported patient. Each entry's
fullUrl is a ``urn:uuid`` made with uuid5 from the record's table and key, so an export is byte-stable.
Records are read back into a :class:`~alscell.domain.dataset.ClinicalDataset`; each record's ``origin``
names its bundle, entry and resource type. The planned calendar (CarePlan) is exported, never read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any, Final

from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.resource import Resource

from alscell.domain.dataset import ClinicalDataset, Record
from alscell.errors import InvalidImport, Problem
from alscell.interop.fhir import codes, observations, people, products, program, safety
from alscell.interop.fhir.entries import Entry, Links, patient_url, study_url, url_of

__all__ = ["from_bundles", "read_bundles", "to_bundles"]

Make = Callable[[Links], Resource]

_SIMPLE: Final[dict[str, Callable[[Any, Links], Resource]]] = {
    "diagnoses": people.to_condition,
    "consents": people.to_consent,
    "screenings": program.to_screening,
    "enrollments": program.to_research_subject,
    "schedule_events": program.to_task,
    "alsfrs_ratings": observations.to_alsfrs,
    "vital_capacities": observations.to_vital_capacity,
    "weights": observations.to_weight,
    "lab_results": observations.to_lab_result,
    "vital_signs": observations.to_vital_signs,
    "outcome_events": people.to_outcome,
}
"""Patient tables whose every record becomes one resource, in bundle order."""
_PROTOCOL_TABLES: Final = ("screenings", "enrollments", "schedule_events", "planned_activities",
                           "administrations", "adverse_events")  # fmt: skip


# ---------------------------------------------------------------- export


def to_bundles(dataset: ClinicalDataset) -> list[Bundle]:
    """One Bundle per study code (sorted), then the ``products`` bundle."""
    codes_seen = sorted(_study_codes(dataset))
    bundles = [_bundle(code, _patient_items(dataset, code)) for code in codes_seen]
    exported = set(codes_seen)
    units = [u for u in dataset.product_units if u.assigned_study_code not in exported]
    items: list[tuple[str, Make]] = [
        (url_of(lot), partial(_ignore_links, products.to_lot(lot))) for lot in dataset.product_lots
    ]
    items.extend(_unit_items(dataset, units))
    bundles.append(_bundle(codes.PRODUCTS, items))
    return bundles


def _study_codes(dataset: ClinicalDataset) -> set[str]:
    found = {patient.study_code for patient in dataset.patients}
    for name in (*_SIMPLE, "identities", *_PROTOCOL_TABLES):
        found.update(record.study_code for record in dataset.table(name))  # type: ignore[attr-defined]
    return found


def _ignore_links(resource: Resource, links: Links) -> Resource:  # noqa: ARG001
    return resource


def _bundle(name: str, items: Sequence[tuple[str, Make]]) -> Bundle:
    links = Links(name=name, present=frozenset(url for url, _ in items))
    entries = [BundleEntry(fullUrl=url, resource=make(links)) for url, make in items]
    return Bundle(
        identifier=Identifier(system=codes.BUNDLE, value=name),
        type="collection",
        entry=entries or None,
    )


def _mine(records: Iterable[Record], code: str) -> list[Any]:
    return [record for record in records if getattr(record, "study_code", None) == code]


def _patient_items(dataset: ClinicalDataset, code: str) -> list[tuple[str, Make]]:
    items: list[tuple[str, Make]] = []
    patient = next(iter(_mine(dataset.patients, code)), None)
    identity = next(iter(_mine(dataset.identities, code)), None)
    if identity is not None and patient is None:
        raise ValueError(f"identity of {code!r} has no patient record to go with")
    if patient is not None:
        deaths = [
            e.occurred_on for e in _mine(dataset.outcome_events, code) if e.kind == codes.DEATH
        ]
        resource = people.to_patient(patient, identity, died_on=min(deaths, default=None))
        items.append((patient_url(code), partial(_ignore_links, resource)))
    protocols = {
        (r.protocol_key, r.protocol_version) for n in _PROTOCOL_TABLES for r in _mine(dataset.table(n), code)
    }  # fmt: skip
    for key, version in sorted(p for p in protocols if None not in p):
        study = program.to_research_study(key, version)
        items.append((study_url(code, key, version), partial(_ignore_links, study)))
    for name, make in _SIMPLE.items():
        items.extend((url_of(r), partial(make, r)) for r in _mine(dataset.table(name), code))
    items.extend(_care_plan_items(_mine(dataset.planned_activities, code)))
    units = [u for u in dataset.product_units if u.assigned_study_code == code]
    items.extend(_unit_items(dataset, units))
    doses = _mine(dataset.administrations, code)
    items.extend((url_of(dose), partial(products.to_administration, dose)) for dose in doses)
    given = {(dose.activity_id, dose.given_on): url_of(dose) for dose in doses}
    for event in _mine(dataset.adverse_events, code):
        link = given.get((event.administration_activity_id, event.administration_given_on))
        make = partial(safety.to_adverse_event, event, administration_url=link)
        items.append((url_of(event), make))
    return items


def _care_plan_items(planned: list[Any]) -> list[tuple[str, Make]]:
    plans: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
    for record in planned:
        plans[(record.study_code, record.protocol_key, record.protocol_version)].append(record)
    return [
        (codes.full_url("care_plans", *key), partial(program.to_care_plan, records))
        for key, records in sorted(plans.items())
    ]


def _unit_items(dataset: ClinicalDataset, units: Sequence[Any]) -> list[tuple[str, Make]]:
    items: list[tuple[str, Make]] = []
    for unit in units:
        items.append((url_of(unit), partial(_ignore_links, products.to_unit(unit))))
        tests = [test for test in dataset.release_tests if test.din == unit.din]
        items.extend((url_of(test), partial(products.to_release_test, test)) for test in tests)
    return items


# ---------------------------------------------------------------- import


def from_bundles(
    bundles: Sequence[Bundle], *, names: Sequence[str] | None = None
) -> ClinicalDataset:
    """The data set of bundles written by :func:`to_bundles`; raise InvalidImport listing every
    problem. ``names`` (e.g. file names) say where each bundle came from in problems and origins."""
    dataset, problems = read_bundles(bundles, names=names)
    if problems:
        raise InvalidImport(problems, source="FHIR bundles")
    return dataset


def read_bundles(
    bundles: Sequence[Bundle], *, names: Sequence[str] | None = None
) -> tuple[ClinicalDataset, list[Problem]]:
    """The records read from bundles, and every problem found reading them."""
    tables: dict[str, list[Record]] = defaultdict(list)
    problems: list[Problem] = []
    for index, bundle in enumerate(bundles):
        name = names[index] if names is not None else _bundle_name(bundle, index)
        for record in _read_bundle(bundle, name, problems):
            tables[record.TABLE].append(record)
    return ClinicalDataset.from_tables(tables), problems


def _bundle_name(bundle: Bundle, index: int) -> str:
    identifier = bundle.identifier
    return str(identifier.value) if identifier and identifier.value else f"bundle {index}"


def _read_bundle(bundle: Bundle, name: str, problems: list[Problem]) -> Iterable[Record]:
    if bundle.type != "collection":
        problems.append(Problem(f"{name} element type", "must be collection"))
    entries = list(enumerate(bundle.entry or []))
    studies: dict[str, tuple[str, str]] = {}
    for index, item in entries:
        if item.resource is not None and item.resource.get_resource_type() == "ResearchStudy":
            entry = Entry(f"{name} entry {index} (ResearchStudy)", problems)
            key = program.study_key(item.resource, entry)  # type: ignore[arg-type]
            if key is not None and item.fullUrl is not None:
                studies[str(item.fullUrl)] = key
    for index, item in entries:
        if item.resource is None:
            problems.append(Problem(f"{name} entry {index} element resource", "is required"))
            continue
        kind = item.resource.get_resource_type()
        entry = Entry(f"{name} entry {index} ({kind})", problems, studies)
        yield from (record for record in _read_resource(kind, item.resource, entry) if record)


def _read_resource(kind: str, resource: Any, entry: Entry) -> Iterable[Record | None]:
    if kind in ("ResearchStudy", "CarePlan"):  # read above; derived
        return []
    if kind == "Patient":
        return people.from_patient(resource, entry)
    if kind == "Observation":
        return [_read_observation(resource, entry)]
    if kind == "Procedure" and codes.code_in(resource.category, codes.ADMINISTRATION_KIND) is None:
        return [people.from_outcome(resource, entry)]
    reader = _READERS.get(kind)
    if reader is None:
        entry.problem("resourceType", f"{kind} is not part of an alscell export")
        return []
    return [reader(resource, entry)]


_READERS: Final[dict[str, Callable[[Any, Entry], Record | None]]] = {
    "Condition": people.from_condition,
    "Consent": people.from_consent,
    "ResearchSubject": program.from_research_subject,
    "Task": program.from_task,
    "Procedure": products.from_administration,
    "MedicationAdministration": products.from_administration,
    "BiologicallyDerivedProduct": products.from_product,
    "AdverseEvent": safety.from_adverse_event,
}
_OBSERVATIONS: Final[dict[str, Callable[[Any, Entry], Record | None]]] = {
    "alsfrs_ratings": observations.from_alsfrs,
    "weights": observations.from_weight,
    "vital_capacities": observations.from_vital_capacity,
    "vital_signs": observations.from_vital_signs,
    "lab_results": observations.from_lab_result,
    "screenings": program.from_screening,
    "outcome_events": people.from_outcome,
    "release_tests": products.from_release_test,
}


def _read_observation(resource: Any, entry: Entry) -> Record | None:
    table = observations.observation_kind(resource.code)
    if table is None:
        entry.problem("code", "is not an observation code that alscell exports")
        return None
    return _OBSERVATIONS[table](resource, entry)
