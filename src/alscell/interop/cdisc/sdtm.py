"""SDTM (SDTMIG 3.3) datasets from a clinical data set: a pure mapping, no files.

:func:`to_sdtm` returns every dataset of :data:`~alscell.interop.cdisc.domains.DOMAINS` as a list of
rows (dicts in variable order; None where a value is missing). USUBJID is STUDYID, a hyphen and the
study code. RFSTDTC is the first EX date (the first dose of the program: cell product, infusion or
medication) and RFENDTC the last; study days count from RFSTDTC (see ``tabulation``).

DM rules:

- AGE is in completed years on RFSTDTC (or, for a subject never dosed, on the first consent or else
  the registration date). With a birth date (identified export) it is exact; with only the birth
  year the birthday is taken as 1 July, so AGE may be one year off. BRTHDTC is written only when
  identities are present.
- ARMCD is the protocol key of the subject's first enrollment (upper case, at most 20 characters) and
  ARM its title (``arms``) or key and version. ACTARM is ARM once the subject has a dose; otherwise
  ARMNRS says why it is empty: "SCREEN FAILURE", "NOT ASSIGNED" or "ASSIGNED, NOT TREATED".
- SEX is M, F or U. RACE and ETHNIC are not collected; COUNTRY is ``country`` or blank.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, tzinfo
from typing import Final

from alscell.domain.dataset import ClinicalDataset, EnrollmentRecord, PatientRecord
from alscell.interop.cdisc import codes, findings, interventions
from alscell.interop.cdisc.domains import DOMAINS
from alscell.interop.cdisc.tabulation import Context, Draft, Row, finish

__all__ = ["age_years", "to_sdtm"]

_ELIGIBLE: Final = frozenset({"eligible", "met"})
_INELIGIBLE: Final = frozenset({"ineligible", "not_met"})
_ENDINGS: Final = ("completed", "withdrawn", "lost_to_follow_up")


def to_sdtm(
    dataset: ClinicalDataset, *, study_id: str, arms: Mapping[str, str] | None = None,
    country: str | None = None, cell_route: str = "INTRATHECAL", tz: tzinfo = UTC,
) -> dict[str, list[Row]]:  # fmt: skip
    """Every SDTM dataset of ``dataset``, by name (empty lists included), in :data:`DOMAINS` order.

    ``arms`` maps a protocol key to the arm description (the protocol's title); ``country`` is the
    ISO 3166-1 alpha-3 code of the site; ``cell_route`` is EXROUTE for a cell dose whose kind does not
    name its route; times are written in ``tz``.
    """
    data = dataset.sorted()
    context = Context(study_id, _first_doses(data), tz)
    tables: dict[str, list[Row]] = {name: [] for name in DOMAINS}
    tables["DM"] = [
        _dm_row(patient, data, context, arms or {}, country) for patient in data.patients
    ]
    tables["AE"], tables["SUPPAE"] = finish(
        "AE", interventions.ae_drafts(data, context), by="AESTDTC"
    )
    drafts = interventions.ex_drafts(data, context, cell_route=cell_route)
    tables["EX"], tables["SUPPEX"] = finish("EX", drafts, by="EXSTDTC")
    tables["PR"] = finish("PR", interventions.pr_drafts(data, context), by="PRSTDTC")[0]
    tables["DS"] = finish("DS", _ds_drafts(data, context), by="DSSTDTC")[0]
    tables["SV"] = _sv_rows(data, context)
    tables["QS"] = finish("QS", findings.qs_drafts(data, context), by="QSDTC")[0]
    tables["RE"] = finish("RE", findings.re_drafts(data, context), by="REDTC")[0]
    tables["VS"] = finish("VS", findings.vs_drafts(data, context), by="VSDTC")[0]
    tables["LB"] = finish("LB", findings.lb_drafts(data, context), by="LBDTC")[0]
    return tables


def _first_doses(dataset: ClinicalDataset) -> dict[str, date]:
    first: dict[str, date] = {}
    for record in dataset.administrations:
        if interventions.is_exposure(record):
            known = first.get(record.study_code, record.given_on)
            first[record.study_code] = min(known, record.given_on)
    return first


def age_years(
    on: date, *, birth_on: date | None = None, birth_year: int | None = None
) -> int | None:
    """Completed years on ``on``: from the birth date, else from the birth year taking 1 July."""
    if birth_on is None and birth_year is None:
        return None
    born = birth_on if birth_on is not None else date(birth_year or 0, 7, 1)
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


# ---------------------------------------------------------------- DM


def _dm_row(
    patient: PatientRecord, data: ClinicalDataset, context: Context, arms: Mapping[str, str],
    country: str | None,
) -> Row:  # fmt: skip
    code = patient.study_code
    doses = sorted(
        r.given_on
        for r in data.administrations
        if r.study_code == code and interventions.is_exposure(r)
    )
    consents = sorted(c.consented_on for c in data.consents if c.study_code == code)
    death = _death_on(data, code)
    identity = next((i for i in data.identities if i.study_code == code), None)
    birth_on = identity.birth_on if identity is not None else None
    registered = patient.registered_at.date() if patient.registered_at is not None else None
    age_on = doses[0] if doses else (consents[0] if consents else registered)
    age = (
        None
        if age_on is None
        else age_years(age_on, birth_on=birth_on, birth_year=patient.birth_year)
    )
    sex = codes.SEX.get(patient.sex, codes.SEX[None])
    return (
        dict.fromkeys(DOMAINS["DM"].names)
        | context.keys("DM", code)
        | {
            "SUBJID": code,
            "RFSTDTC": context.dtc(doses[0] if doses else None),
            "RFENDTC": context.dtc(doses[-1] if doses else None),
            "RFXSTDTC": context.dtc(doses[0] if doses else None),
            "RFXENDTC": context.dtc(doses[-1] if doses else None),
            "RFICDTC": context.dtc(consents[0] if consents else None),
            "RFPENDTC": context.dtc(_participation_end(data, code, death)),
            "DTHDTC": context.dtc(death),
            "DTHFL": "Y" if death is not None or patient.status == "died" else None,
            "SITEID": patient.site_code,
            "BRTHDTC": context.dtc(birth_on),
            "AGE": age,
            "AGEU": "YEARS" if age is not None else None,
            "SEX": sex.value,
            "COUNTRY": country,
        }
        | _arms(data, code, treated=bool(doses), arms=arms)
    )


def _arms(data: ClinicalDataset, code: str, *, treated: bool, arms: Mapping[str, str]) -> Row:
    enrollment = _first_enrollment(data, code)
    if enrollment is None:
        failed = any(s.study_code == code and s.outcome in _INELIGIBLE for s in data.screenings)
        return {"ARMNRS": "SCREEN FAILURE" if failed else "NOT ASSIGNED"}
    armcd = enrollment.protocol_key.upper()[:20]
    arm = arms.get(
        enrollment.protocol_key, f"{enrollment.protocol_key} {enrollment.protocol_version}"
    )
    if not treated:
        return {"ARMCD": armcd, "ARM": arm, "ARMNRS": "ASSIGNED, NOT TREATED"}
    return {"ARMCD": armcd, "ARM": arm, "ACTARMCD": armcd, "ACTARM": arm}


def _first_enrollment(data: ClinicalDataset, code: str) -> EnrollmentRecord | None:
    enrollments = sorted(
        (e for e in data.enrollments if e.study_code == code), key=lambda e: e.enrolled_on
    )
    return enrollments[0] if enrollments else None


def _death_on(data: ClinicalDataset, code: str) -> date | None:
    deaths = [
        e.occurred_on for e in data.outcome_events if e.study_code == code and e.kind == "death"
    ]
    return min(deaths, default=None)


def _participation_end(data: ClinicalDataset, code: str, death: date | None) -> date | None:
    ends = [e.ended_on for e in data.enrollments if e.study_code == code and e.ended_on is not None]
    ends += [c.withdrawn_on for c in data.consents if c.study_code == code and c.withdrawn_on]
    if not any(e.study_code == code for e in data.enrollments):
        ends += [
            s.screened_on
            for s in data.screenings
            if s.study_code == code and s.outcome in _INELIGIBLE
        ]
    ends += [death] if death is not None else []
    return max(ends, default=None)


# ---------------------------------------------------------------- DS


def _ds_drafts(data: ClinicalDataset, context: Context) -> Iterator[Draft]:
    for consent in data.consents:
        code, form = consent.study_code, consent.form_version
        yield _ds(
            context,
            code,
            "consent",
            f"Informed consent obtained (form {form})",
            consent.consented_on,
        )
        if consent.withdrawn_on is not None:
            yield _ds(
                context,
                code,
                "consent_withdrawn",
                f"Consent withdrawn (form {form})",
                consent.withdrawn_on,
            )
    for screening in data.screenings:
        protocol = f"{screening.protocol_key} {screening.protocol_version}"
        if screening.outcome in _ELIGIBLE:
            yield _ds(
                context,
                screening.study_code,
                "eligible",
                f"Eligible for {protocol}",
                screening.screened_on,
            )
        elif screening.outcome in _INELIGIBLE:
            yield _ds(
                context,
                screening.study_code,
                "screen_failure",
                f"Not eligible for {protocol}",
                screening.screened_on,
            )
    for enrollment in data.enrollments:
        protocol = f"{enrollment.protocol_key} {enrollment.protocol_version}"
        yield _ds(
            context,
            enrollment.study_code,
            "enrolled",
            f"Enrolled in {protocol}",
            enrollment.enrolled_on,
        )
    for patient in data.patients:
        yield from _ending(data, context, patient)


def _ending(data: ClinicalDataset, context: Context, patient: PatientRecord) -> Iterator[Draft]:
    """Death, completion, withdrawal or loss to follow-up, dated by the end of participation."""
    code = patient.study_code
    death = _death_on(data, code)
    ended = _participation_end(data, code, death)
    if death is not None or patient.status == "died":
        yield _ds(context, code, "died", "Died", death or ended)
    elif patient.status in _ENDINGS:
        term = patient.status.replace("_", " ").capitalize()
        yield _ds(context, code, patient.status, term, ended)


def _ds(context: Context, code: str, fact: str, term: str, on: date | None) -> Draft:
    decoded, category = codes.DS_TERMS[fact]
    return Draft(
        context.keys("DS", code)
        | {"DSTERM": term, "DSDECOD": decoded.value, "DSCAT": category}
        | {"DSSTDTC": context.dtc(on), "DSSTDY": context.day(code, on)}
    )


# ---------------------------------------------------------------- SV


def _sv_rows(data: ClinicalDataset, context: Context) -> list[Row]:
    """One row per planned activity occurrence that took place (has an actual date).

    VISITNUM numbers the distinct (activity, occurrence) pairs of the whole data set by their planned
    day counted from the enrollment's start (then activity id and occurrence), so the same visit has
    the same number for every subject.
    """
    starts = {
        (e.study_code, e.protocol_key, e.protocol_version): e.start_on or e.enrolled_on
        for e in data.enrollments
    }
    offsets: dict[tuple[str, int], int] = {}
    for planned in data.planned_activities:
        start = starts.get(
            (planned.study_code, planned.protocol_key, planned.protocol_version), planned.planned_on
        )
        visit = (planned.activity_id, planned.occurrence)
        offsets[visit] = min(
            offsets.get(visit, (planned.planned_on - start).days), (planned.planned_on - start).days
        )
    numbers = {
        visit: n for n, visit in enumerate(sorted(offsets, key=lambda v: (offsets[v], v)), start=1)
    }
    rows: list[Row] = []
    for planned in data.planned_activities:
        if planned.actual_on is None:
            continue
        code, day = planned.study_code, context.day(planned.study_code, planned.actual_on)
        rows.append(context.keys("SV", code) | {
            "VISITNUM": numbers[(planned.activity_id, planned.occurrence)], "VISIT": planned.name,
            "VISITDY": context.day(code, planned.planned_on), "SVSTDTC": context.dtc(planned.actual_on),
            "SVENDTC": context.dtc(planned.actual_on), "SVSTDY": day, "SVENDY": day,
        })  # fmt: skip
    return sorted(rows, key=lambda row: (str(row["USUBJID"]), int(row["VISITNUM"] or 0)))
