"""PRO-ACT rows to values (interop/proact/mapping.py): every rule of one row, located by column."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from alscell.domain.comparator import FvcRecord, RatingRecord
from alscell.errors import InvalidImport
from alscell.interop.proact import mapping as m

WHERE = "PROACT_ALSFRS.csv row 17"
R_ROW = {
    "subject_id": "7", "Q1_Speech": "4", "Q2_Salivation": "4", "Q3_Swallowing": "3", "Q4_Handwriting": "3",
    "Q5a_Cutting_without_Gastrostomy": "2", "Q6_Dressing_and_Hygiene": "3", "Q7_Turning_in_Bed": "4",
    "Q8_Walking": "2", "Q9_Climbing_Stairs": "1", "R_1_Dyspnea": "4", "R_2_Orthopnea": "4",
    "R_3_Respiratory_Insufficiency": "4", "ALSFRS_R_Total": "38", "ALSFRS_Delta": "-3",
}  # fmt: skip  # 4+4+3+3+2+3+4+2+1+4+4+4 = 38


def problems(parse: Callable[..., object], row: dict[str, str], where: str = WHERE) -> list[str]:
    with pytest.raises(InvalidImport) as raised:
        parse(row, where=where)
    return [str(problem) for problem in raised.value.problems]


def test_an_alsfrs_r_row_keeps_every_item_and_its_total():
    assert m.from_alsfrs_row(R_ROW, where=WHERE) == RatingRecord(
        "7", -3, "alsfrs_r", 4, 4, 3, 3, 2, None, 3, 4, 2, 1, 4, 4, 4, 38
    )


def test_an_empty_total_is_the_sum_of_the_items_and_whole_floats_are_accepted():
    row = {**R_ROW, "ALSFRS_R_Total": "", "Q1_Speech": "3.0", "ALSFRS_Delta": "12.0"}
    rating = m.from_alsfrs_row(row, where=WHERE)
    assert (rating.q1, rating.total, rating.delta_days) == (3, 37, 12)


def test_item_5b_replaces_5a_with_a_gastrostomy():
    row = {**R_ROW, "Q5a_Cutting_without_Gastrostomy": "", "Q5b_Cutting_with_Gastrostomy": "2"}
    rating = m.from_alsfrs_row(row, where=WHERE)
    assert (rating.q5a, rating.q5b, rating.total) == (None, 2, 38)


def test_the_original_alsfrs_keeps_its_item_10_and_its_own_total():
    row = {key: value for key, value in R_ROW.items() if not key.startswith("R_")}
    row |= {"Q10_Respiratory": "3", "ALSFRS_Total": "29", "ALSFRS_R_Total": ""}  # 38 - 12 + 3 = 29
    rating = m.from_alsfrs_row(row, where=WHERE)
    assert (rating.form, rating.q10, rating.q11, rating.q12, rating.total) == (
        "alsfrs",
        3,
        None,
        None,
        29,
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"Q3_Swallowing": "5"}, "column Q3_Swallowing: must be an item score from 0 to 4, got '5'"),
        ({"Q3_Swallowing": "2.5"}, "column Q3_Swallowing: must be an item score from 0 to 4, got '2.5'"),
        ({"Q8_Walking": ""}, "column Q8_Walking: is empty; needs an item score from 0 to 4"),
        ({"ALSFRS_R_Total": "40"}, "column ALSFRS_R_Total: ALSFRS-R total 40 is not the sum of the 12 items (38"),
        ({"ALSFRS_R_Total": "49"}, "column ALSFRS_R_Total: must be an ALSFRS-R total from 0 to 48"),
        ({"ALSFRS_Delta": "abc"}, "column ALSFRS_Delta: must be whole days from trial start"),
        ({"ALSFRS_Delta": "40000"}, "column ALSFRS_Delta: must be whole days from trial start from -36525 to 36525"),
        ({"ALSFRS_Delta": ""}, "column ALSFRS_Delta: is empty"),
        ({"R_2_Orthopnea": ""}, "column R_2_Orthopnea: is empty; needs an item score"),
        ({"subject_id": " "}, "column subject_id: must be 1 to 40 characters"),
        ({"Q5b_Cutting_with_Gastrostomy": "3"}, "column Q5a_Cutting_without_Gastrostomy: exactly one of"),
        ({"Q5a_Cutting_without_Gastrostomy": ""}, "got 0"),
        ({"R_1_Dyspnea": "", "R_2_Orthopnea": "", "R_3_Respiratory_Insufficiency": ""},
         "column R_1_Dyspnea: a rating needs R_1_Dyspnea, R_2_Orthopnea and R_3_Respiratory_Insufficiency"),
    ],
)  # fmt: skip
def test_each_broken_rule_names_row_and_column(changes, expected):
    found = problems(m.from_alsfrs_row, {**R_ROW, **changes})
    assert any(
        problem.startswith(f"{WHERE} column") and expected in problem for problem in found
    ), found


def test_every_problem_of_a_row_is_listed_at_once():
    found = problems(
        m.from_alsfrs_row, {**R_ROW, "Q1_Speech": "x", "Q2_Salivation": "9", "ALSFRS_Delta": ""}
    )
    assert [p.split(":")[0] for p in found] == [
        f"{WHERE} column ALSFRS_Delta", f"{WHERE} column Q1_Speech", f"{WHERE} column Q2_Salivation",
    ]  # fmt: skip


def test_the_original_alsfrs_total_must_be_its_items_sum():
    row = {key: value for key, value in R_ROW.items() if not key.startswith("R_")}
    row |= {"Q10_Respiratory": "3", "ALSFRS_Total": "30"}
    assert problems(m.from_alsfrs_row, row) == [
        f"{WHERE} column ALSFRS_Total: original ALSFRS total 30 is not the sum of the 10 items (29; clinical.md §1.1)"
    ]


def test_demographics_sex_and_age_or_age_from_the_birth_delta():
    where = "PROACT_DEMOGRAPHICS.csv row 2"
    assert m.from_demographics_row({"subject_id": "1", "Sex": "Female", "Age": "61.5"}, where=where) == (
        "1", "female", 61.5,
    )  # fmt: skip
    # born 20,000 days before trial start: 20000 / 365.25 = 54.76 years, whole years 54
    assert m.from_demographics_row({"subject_id": "2", "Sex": "M", "Age": "", "Date_of_Birth": "-20000"},
                                   where=where) == ("2", "male", 54.0)  # fmt: skip
    assert m.from_demographics_row({"subject_id": "3", "Sex": ""}, where=where) == ("3", None, None)
    assert problems(
        m.from_demographics_row, {"subject_id": "4", "Sex": "X", "Age": "200"}, where
    ) == [
        f"{where} column Sex: must be one of f, female, m, male, got 'X'",
        f"{where} column Age: must be a number from 0 to 120, got '200'",
    ]


def test_history_sites_and_deltas():
    where = "PROACT_ALSHISTORY.csv row 3"
    row = {
        "subject_id": "1",
        "Site_of_Onset": "Onset: Limb and Bulbar",
        "Onset_Delta": "-700",
        "Diagnosis_Delta": "-350",
    }
    assert m.from_history_row(row, where=where) == ("1", "bulbar_and_spinal", -700, -350)
    assert m.from_history_row({**row, "Site_of_Onset": "Limb"}, where=where).onset_site == "spinal"
    assert problems(m.from_history_row, {**row, "Diagnosis_Delta": "-800"}, where) == [
        f"{where} column Diagnosis_Delta: diagnosis (day -800) comes before onset (day -700)"
    ]


def test_deaths_yes_no_and_days():
    where = "PROACT_DEATHDATA.csv row 2"
    assert m.from_death_row(
        {"subject_id": "1", "Subject_Died": "Yes", "Death_Days": "400"}, where=where
    ) == ("1", True, 400)
    assert m.from_death_row(
        {"subject_id": "1", "Subject_Died": "Yes", "Death_Days": ""}, where=where
    ) == ("1", True, None)
    assert m.from_death_row(
        {"subject_id": "1", "Subject_Died": "", "Death_Days": ""}, where=where
    ) == ("1", None, None)
    assert problems(
        m.from_death_row, {"subject_id": "1", "Subject_Died": "No", "Death_Days": "3"}, where
    ) == [f"{where} column Death_Days: is 3 but Subject_Died is 'No'"]


def test_fvc_percent_may_be_empty_but_not_wrong():
    where = "PROACT_FVC.csv row 2"
    row = {"subject_id": "1", "pct_of_Normal_Trial_1": "82.5", "Forced_Vital_Capacity_Delta": "0"}
    assert m.from_fvc_row(row, where=where) == FvcRecord("1", 0, 82.5)
    assert (
        m.from_fvc_row({**row, "pct_of_Normal_Trial_1": ""}, where=where).percent_predicted is None
    )
    assert problems(m.from_fvc_row, {**row, "pct_of_Normal_Trial_1": "8x"}, where) == [
        f"{where} column pct_of_Normal_Trial_1: must be a number from 0 to 300, got '8x'"
    ]
