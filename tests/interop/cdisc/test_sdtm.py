"""SDTM mapping of the sample data set (interop/cdisc/sdtm.py): keys, study days, each domain's values.

Expected values are worked out by hand from tests/interop/sample.py. Patient P-0001's first dose is
the neurotrophic infusion on 2026-01-12 (RFSTDTC, day 1); P-0002 was never dosed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date
from typing import Any, TypeAlias

import pytest

from alscell.domain.dataset import (
    AdministrationRecord,
    ClinicalDataset,
    LabResultRecord,
    OutcomeEventRecord,
    PatientRecord,
)
from alscell.errors import InvalidInput
from alscell.interop.cdisc import to_sdtm
from alscell.interop.cdisc.domains import DOMAINS
from alscell.interop.cdisc.sdtm import age_years
from alscell.interop.cdisc.tabulation import study_day
from tests.interop.sample import sample_dataset

A, B = "ALS1-P-0001", "ALS1-P-0002"
Tables: TypeAlias = dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def tables() -> Tables:
    return to_sdtm(sample_dataset(), study_id="ALS1", arms={"seed-program": "NSC x4 intrathecal"})


def _by(rows: list[dict[str, Any]], **where: object) -> list[dict[str, Any]]:
    return [row for row in rows if all(row[key] == value for key, value in where.items())]


def test_every_row_has_its_domain_variables_in_order(tables: Tables) -> None:
    for name, rows in tables.items():
        for row in rows:
            assert tuple(row) == DOMAINS[name].names


def test_names_and_labels_fit_sas_transport_v5() -> None:
    for dataset in DOMAINS.values():
        assert len(dataset.name) <= 8
        assert len(dataset.label) <= 40
        for variable in dataset.variables:
            assert len(variable.name) <= 8, variable.name
            assert len(variable.label) <= 40, variable.label


def test_dm_has_one_row_per_patient_keyed_by_study_and_study_code(tables: Tables) -> None:
    dm = tables["DM"]
    assert [row["USUBJID"] for row in dm] == [A, B]
    assert [row["SUBJID"] for row in dm] == ["P-0001", "P-0002"]
    assert {row["STUDYID"] for row in dm} == {"ALS1"}
    a, b = dm
    assert (a["RFSTDTC"], a["RFENDTC"], a["RFICDTC"]) == ("2026-01-12", "2026-01-26", "2026-01-05")
    assert (a["SEX"], b["SEX"]) == ("F", "M")
    assert (a["ARMCD"], a["ARM"], a["ACTARMCD"], a["ACTARM"], a["ARMNRS"]) == (
        "SEED-PROGRAM", "NSC x4 intrathecal", "SEED-PROGRAM", "NSC x4 intrathecal", None,
    )  # fmt: skip
    assert (b["ARMCD"], b["ACTARMCD"], b["ARMNRS"]) == (None, None, "SCREEN FAILURE")
    assert b["RFSTDTC"] is None
    assert a["COUNTRY"] is None


def test_death_is_in_dm_and_ds(tables: Tables) -> None:
    a, b = tables["DM"]
    assert (a["DTHFL"], a["DTHDTC"]) == ("Y", "2026-06-30")
    assert (b["DTHFL"], b["DTHDTC"]) == (None, None)
    death = _by(tables["DS"], DSDECOD="DEATH")
    assert [(row["USUBJID"], row["DSSTDTC"], row["DSCAT"]) for row in death] == [
        (A, "2026-06-30", "DISPOSITION EVENT")
    ]
    # 2026-01-12 .. 2026-06-30 is 169 days later: day 170
    assert death[0]["DSSTDY"] == 170


def test_age_uses_the_birth_date_when_identified_and_the_birth_year_otherwise(
    tables: Tables,
) -> None:
    assert [row["AGE"] for row in tables["DM"]] == [
        64,
        55,
    ]  # 1961-02-28 to 2026-01-12; 1970-07-01 to 2026-01-06
    assert [row["BRTHDTC"] for row in tables["DM"]] == ["1961-02-28", "1970-07-01"]
    anonymous = to_sdtm(sample_dataset(identified=False), study_id="ALS1")["DM"]
    assert [row["BRTHDTC"] for row in anonymous] == [None, None]
    assert [row["AGE"] for row in anonymous] == [64, 55]  # born "1 July 1961" and "1 July 1970"
    assert {row["AGEU"] for row in anonymous} == {"YEARS"}


def test_age_from_a_birth_year_takes_1_july_as_the_birthday() -> None:
    assert age_years(date(2026, 6, 30), birth_year=1961) == 64
    assert age_years(date(2026, 7, 1), birth_year=1961) == 65
    assert age_years(date(2026, 2, 27), birth_on=date(1961, 2, 28)) == 64
    assert age_years(date(2026, 2, 28), birth_on=date(1961, 2, 28)) == 65
    assert age_years(date(2026, 2, 28)) is None


def test_study_day_counts_the_first_dose_as_day_1_with_no_day_0() -> None:
    first = date(2026, 1, 12)
    assert study_day(first, first) == 1
    assert study_day(date(2026, 1, 13), first) == 2
    assert study_day(date(2026, 1, 11), first) == -1
    assert study_day(date(2026, 1, 7), first) == -5


def test_study_days_in_the_domains(tables: Tables) -> None:
    # hand-counted from RFSTDTC 2026-01-12 (day 1); before it, 01-11 is day -1
    qs_days = {(row["QSDTC"], row["QSDY"]) for row in _by(tables["QS"], USUBJID=A)}
    assert qs_days == {("2026-01-07", -5), ("2026-03-02", 50)}
    ae = _by(tables["AE"], USUBJID=A)
    assert [(r["AESTDY"], r["AEENDY"]) for r in ae] == [(9, 13), (160, None)]
    assert [r["EXSTDY"] for r in tables["EX"]] == [1, 8, 15]
    consent = _by(tables["DS"], USUBJID=A, DSDECOD="INFORMED CONSENT OBTAINED")
    assert consent[0]["DSSTDY"] == -7
    assert {row["VSDY"] for row in tables["VS"]} == {-5, 8}
    assert all(row["QSDY"] is None for row in _by(tables["QS"], USUBJID=B))  # never dosed
    for name, rows in tables.items():
        for row in rows:
            for variable, value in row.items():
                if variable.endswith("DY") and variable != "VISITDY":
                    assert value != 0, (name, variable)


def test_seq_is_unique_within_each_subject(tables: Tables) -> None:
    for name, rows in tables.items():
        seq = f"{name}SEQ"
        if seq not in DOMAINS[name].names:
            continue
        counts = Counter((row["USUBJID"], row[seq]) for row in rows)
        assert all(count == 1 for count in counts.values()), name
        for subject in {row["USUBJID"] for row in rows}:
            numbers = sorted(row[seq] for row in rows if row["USUBJID"] == subject)
            assert numbers == list(range(1, len(numbers) + 1))


ITEM_CODES = {
    "q1": "ALSFR01", "q2": "ALSFR02", "q3": "ALSFR03", "q4": "ALSFR04", "q5a": "ALSFR05A",
    "q5b": "ALSFR05B", "q6": "ALSFR06", "q7": "ALSFR07", "q8": "ALSFR08", "q9": "ALSFR09",
    "q10": "ALSFR10", "q11": "ALSFR11", "q12": "ALSFR12",
}  # fmt: skip


def test_qs_has_twelve_items_and_the_total_per_rating(tables: Tables) -> None:
    qs = tables["QS"]
    assert len(qs) == 3 * 13
    assert {row["QSCAT"] for row in qs} == {"ALSFRS-R"}
    for rating in sample_dataset().alsfrs_ratings:
        rows = _by(qs, USUBJID=f"ALS1-{rating.study_code}", QSDTC=rating.rated_on.isoformat())
        assert len(rows) == 13
        expected = {ITEM_CODES[key]: value for key, value in rating.items().items()}
        expected["ALSFRTOT"] = rating.total
        assert {row["QSTESTCD"]: row["QSSTRESN"] for row in rows} == expected
        assert {row["QSTESTCD"]: row["QSORRES"] for row in rows} == {
            code: str(value) for code, value in expected.items()
        }
        assert [row["QSDRVFL"] for row in rows if row["QSTESTCD"] == "ALSFRTOT"] == ["Y"]
    second = _by(qs, USUBJID=A, QSDTC="2026-03-02")
    assert {row["QSTESTCD"] for row in second} >= {"ALSFR05B"}
    assert "ALSFR05A" not in {row["QSTESTCD"] for row in second}


def test_ex_has_the_cell_doses_and_the_infusion(tables: Tables) -> None:
    ex = tables["EX"]
    cells = _by(ex, EXCAT="CELL PRODUCT")
    assert [(r["EXREFID"], r["EXDOSE"], r["EXDOSU"]) for r in cells] == [
        ("A999926000011", 5.1, "10^6 cells"),  # 5.1e6 cells
        ("A999926000012", 4.9, "10^6 cells"),
    ]
    assert {(r["EXTRT"], r["EXROUTE"], r["EXLOT"]) for r in cells} == {
        ("NSC-5M", "INTRATHECAL", "LOT-26-001")
    }
    doses = {d.unit_din: d.dose_cells for d in sample_dataset().administrations if d.unit_din}
    assert {r["EXREFID"]: r["EXDOSE"] * 1e6 for r in cells} == pytest.approx(doses)
    (infusion,) = _by(ex, EXCAT="INFUSION")
    assert (infusion["EXTRT"], infusion["EXROUTE"], infusion["EXDOSTXT"], infusion["EXDUR"]) == (
        "neurotrophic factor infusion", "INTRAVENOUS", "250 mL over 1 h", "PT60M",
    )  # fmt: skip
    assert _by(tables["SUPPEX"], QNAM="EXOVRRUL")[0]["QVAL"] == "pre_puncture.platelets"


def test_rehabilitation_is_a_procedure_not_exposure(tables: Tables) -> None:
    assert not [row for row in tables["EX"] if "REHAB" in str(row["EXTRT"]).upper()]
    (session,) = tables["PR"]
    assert (session["PRTRT"], session["PRSTDTC"], session["PRDUR"]) == (
        "REHABILITATION", "2026-01-12", "PT45M",
    )  # fmt: skip


def test_ae_terms_grades_and_seriousness_flags(tables: Tables) -> None:
    headache, pneumonia = tables["AE"]
    assert headache["AETERM"] == headache["AEDECOD"] == "Post-dural puncture headache"
    assert (headache["AESER"], headache["AETOXGR"], headache["AEOUT"]) == (
        "N",
        "2",
        "RECOVERED/RESOLVED",
    )
    assert (pneumonia["AESER"], pneumonia["AETOXGR"], pneumonia["AEOUT"]) == ("Y", "5", "FATAL")
    flags = ("AESDTH", "AESHOSP", "AESLIFE", "AESDISAB", "AESCONG", "AESMIE")
    assert [pneumonia[f] for f in flags] == ["Y", "Y", "N", "N", "N", "N"]
    assert [headache[f] for f in flags] == ["N"] * 6
    assert (headache["AEREL"], pneumonia["AEREL"]) == ("UNLIKELY RELATED", "UNLIKELY RELATED")
    procedure = _by(tables["SUPPAE"], QNAM="AERELPRC", IDVARVAL="1")
    assert procedure[0]["QVAL"] == "RELATED"  # the headache: definitely the puncture


def test_findings_rows_and_units(tables: Tables) -> None:
    assert [(r["RETESTCD"], r["REORRES"], r["REORRESU"]) for r in tables["RE"]] == [
        ("FVC", "71.35", "%"),
        ("SVC", "68", "%"),
    ]
    vs = {(r["VSTESTCD"], r["VSDTC"]): (r["VSSTRESN"], r["VSSTRESU"]) for r in tables["VS"]}
    assert vs == {
        ("WEIGHT", "2026-01-07"): (61.25, "kg"),
        ("SYSBP", "2026-01-19T08:05:42"): (128, "mmHg"),
        ("DIABP", "2026-01-19T08:05:42"): (81, "mmHg"),
        ("PULSE", "2026-01-19T08:05:42"): (72, "beats/min"),
        ("TEMP", "2026-01-19T08:05:42"): (36.8, "C"),
        ("OXYSAT", "2026-01-19T08:05:42"): (97.5, "%"),
        ("PULSE", "2026-01-19T12:00:00"): (80, "beats/min"),
    }
    lb = {r["LBTESTCD"]: (r["LBORRES"], r["LBORRESU"], r["LBSTRESU"]) for r in tables["LB"]}
    assert lb == {"PLAT": ("212", "10^9/L", "10^9/L"), "INR": ("1.05", "1", None)}


def test_ds_and_sv_follow_the_sample(tables: Tables) -> None:
    b = [(r["DSDECOD"], r["DSSTDTC"]) for r in _by(tables["DS"], USUBJID=B)]
    assert b == [
        ("INFORMED CONSENT OBTAINED", "2026-01-06"),
        ("SCREEN FAILURE", "2026-01-08"),
        ("CONSENT WITHDRAWN", "2026-01-20"),
    ]
    (visit,) = tables["SV"]
    assert (visit["VISITNUM"], visit["VISIT"], visit["SVSTDTC"], visit["SVSTDY"]) == (
        1, "Lumbar puncture 1", "2026-01-19", 8,
    )  # fmt: skip


def test_other_endings_medications_and_outcomes() -> None:
    sample = sample_dataset(identified=False)
    a, b = sample.patients
    data = replace(
        sample,
        patients=(replace(a, status="completed"), replace(b, status="withdrawn", sex=None)),
        outcome_events=(
            OutcomeEventRecord(study_code="P-0001", kind="tracheostomy", occurred_on=date(2026, 6, 1)),
        ),
        administrations=(
            *sample.administrations,
            AdministrationRecord(
                study_code="P-0001", protocol_key="seed-program", protocol_version="1.0",
                activity_id="immune-medication", kind="medication", given_on=date(2026, 1, 13),
                drug="methylprednisolone",
            ),
        ),
        lab_results=(
            LabResultRecord(study_code="P-0001", collected_on=date(2026, 1, 18), analyte="aptt", value=31.5, unit="s"),
            LabResultRecord(study_code="P-0001", collected_on=date(2026, 1, 18), analyte="ferritin", value=80.0, unit="ug/L"),
        ),
        alsfrs_ratings=(replace(sample.alsfrs_ratings[0], form="self"),),
    )  # fmt: skip
    tables = to_sdtm(data, study_id="ALS1", country="CHN")
    endings = [(r["DSDECOD"], r["DSSTDTC"]) for r in _by(tables["DS"], DSCAT="DISPOSITION EVENT")]
    assert endings == [
        ("COMPLETED", "2026-06-30"),
        ("SCREEN FAILURE", "2026-01-08"),
        ("WITHDRAWAL BY SUBJECT", "2026-01-20"),  # consent withdrawn
    ]
    assert [r["SEX"] for r in tables["DM"]] == ["F", "U"]
    assert {r["COUNTRY"] for r in tables["DM"]} == {"CHN"}
    assert tables["DM"][0]["DTHFL"] is None
    (medication,) = _by(tables["EX"], EXCAT="MEDICATION")
    assert (medication["EXTRT"], medication["EXROUTE"]) == ("methylprednisolone", None)
    assert [r["PRTRT"] for r in tables["PR"]] == ["REHABILITATION", "TRACHEOSTOMY"]
    lb = {r["LBTESTCD"]: (r["LBTEST"], r["LBSTRESU"]) for r in tables["LB"]}
    assert lb == {
        "APTT": ("Activated Partial Thromboplastin Time", "sec"),
        "FERRITIN": ("ferritin", "ug/L"),
    }
    assert {r["QSEVAL"] for r in tables["QS"]} == {"STUDY SUBJECT"}


def test_enrolled_but_never_dosed_is_assigned_not_treated() -> None:
    sample = sample_dataset(identified=False)
    data = replace(sample, administrations=(), patients=sample.patients[:1])
    (dm,) = to_sdtm(data, study_id="ALS1")["DM"]
    assert (dm["ARMCD"], dm["ACTARMCD"], dm["ARMNRS"]) == (
        "SEED-PROGRAM",
        None,
        "ASSIGNED, NOT TREATED",
    )
    assert (dm["RFSTDTC"], dm["AGE"]) == (None, 64)  # age on the consent date, 2026-01-05
    lone = ClinicalDataset(
        patients=(PatientRecord(study_code="P-9", site_code="S1", status="referred"),)
    )
    (dm,) = to_sdtm(lone, study_id="ALS1")["DM"]
    assert (dm["ARMNRS"], dm["AGE"], dm["AGEU"]) == ("NOT ASSIGNED", None, None)


def test_unknown_seriousness_criterion_is_refused() -> None:
    sample = sample_dataset()
    event = replace(sample.adverse_events[1], seriousness=("death", "prolonged_stay"))
    with pytest.raises(InvalidInput, match="prolonged_stay"):
        to_sdtm(replace(sample, adverse_events=(event,)), study_id="ALS1")
