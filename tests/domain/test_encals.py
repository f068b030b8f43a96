"""ENCALS survival model (clinical.md §5): golden values, worked examples, warnings and properties.

Golden CSVs come from ``golden/encals_golden.py``, an independent 40-digit decimal implementation of
clinical.md §5 that imports nothing from alscell.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from alscell.domain import encals
from alscell.domain.encals import SurvivalScale
from alscell.errors import InvalidInput

GOLDEN = Path(__file__).parent / "golden"
RTOL = 1e-10  # double precision against 40-digit decimals; differences are rounding only


def golden_rows(name: str) -> list[dict[str, str]]:
    with (GOLDEN / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def locations(error: InvalidInput) -> set[str]:
    return {problem.location for problem in error.problems}


TYPICAL: dict[str, Any] = {
    "age_at_onset_years": 60.0,
    "delta_fs": 0.5,
    "diagnostic_delay_months": 12.0,
    "vital_capacity_percent": 80.0,
    "bulbar_onset": False,
    "definite_el_escorial": False,
    "ftd": False,
}

# ---------------------------------------------------------------- linear predictor (§5.2, §5.3)


def test_linear_predictor_worked_by_hand():
    # §5.2 transforms for age 60, ΔFS 0.5, delay 12 months, VC 80 %, no binary predictors:
    t_slope = (0.5 + 0.1) ** -0.5  # 1.290994
    t_dx = (12 / 10) ** -0.5 + math.log(12 / 10)  # 0.912871 + 0.182322
    t_age = (60 / 100) ** -2  # 2.777778
    t_vc = (80 / 100) ** -1 + (80 / 100) ** -0.5  # 1.25 + 1.118034
    expected = -1.839 * t_slope - 2.376 * t_dx - 0.264 * t_age + 0.474 * t_vc  # §5.3, no C9orf72

    assert encals.linear_predictor(**TYPICAL) == pytest.approx(expected, rel=1e-12)
    assert encals.linear_predictor(**TYPICAL) == pytest.approx(-4.5872, abs=5e-5)


@pytest.mark.golden
@pytest.mark.parametrize("row", golden_rows("encals_lp.csv"), ids=lambda row: row["case"])
def test_linear_predictor_against_golden(row):
    lp = encals.linear_predictor(
        age_at_onset_years=float(row["age"]),
        delta_fs=float(row["delta_fs"]),
        diagnostic_delay_months=float(row["delay"]),
        vital_capacity_percent=float(row["vc"]),
        bulbar_onset=row["bulbar"] == "1",
        definite_el_escorial=row["definite"] == "1",
        ftd=row["ftd"] == "1",
        c9orf72=None if row["c9orf72"] == "" else row["c9orf72"] == "1",
    )

    assert lp == pytest.approx(float(row["lp"]), rel=RTOL)


def test_binary_predictors_add_their_coefficients():
    base = encals.linear_predictor(**TYPICAL)

    assert encals.linear_predictor(**{**TYPICAL, "bulbar_onset": True}) - base == pytest.approx(
        0.271
    )
    assert encals.linear_predictor(
        **{**TYPICAL, "definite_el_escorial": True}
    ) - base == pytest.approx(0.238)
    assert encals.linear_predictor(**{**TYPICAL, "ftd": True}) - base == pytest.approx(0.415)
    assert encals.linear_predictor(**{**TYPICAL, "ftd": 1}) - base == pytest.approx(0.415)


def test_c9orf72_status_selects_the_coefficient_set():
    positive = encals.linear_predictor(**TYPICAL, c9orf72=True)
    negative = encals.linear_predictor(**TYPICAL, c9orf72=False)
    unknown = encals.linear_predictor(**TYPICAL)

    assert positive - negative == pytest.approx(0.256)
    assert negative != pytest.approx(unknown, abs=1e-4)  # the two sets differ in every coefficient
    assert encals.coefficient_set_for(None) is encals.WITHOUT_C9ORF72
    assert encals.coefficient_set_for(False) is encals.WITH_C9ORF72
    assert encals.WITHOUT_C9ORF72.name != encals.WITH_C9ORF72.name


@pytest.mark.parametrize(
    ("predictor", "slower_or_better"),
    [("delta_fs", 0.2), ("diagnostic_delay_months", 24.0), ("age_at_onset_years", 45.0),
     ("vital_capacity_percent", 100.0)],
)  # fmt: skip
def test_sign_sanity_check(predictor, slower_or_better):
    # §5.3: slower progression, longer delay, younger age and higher VC each lower the LP.
    assert encals.linear_predictor(
        **{**TYPICAL, predictor: slower_or_better}
    ) < encals.linear_predictor(**TYPICAL)


def test_delta_fs_just_above_the_floor_is_accepted_and_the_floor_is_not():
    assert math.isfinite(encals.linear_predictor(**{**TYPICAL, "delta_fs": -0.0999}))
    with pytest.raises(InvalidInput, match=r"delta_fs: must be a finite number > -0\.1"):
        encals.linear_predictor(**{**TYPICAL, "delta_fs": -0.1})


@pytest.mark.parametrize(
    ("field", "value"),
    [("age_at_onset_years", 0.0), ("age_at_onset_years", -3.0), ("diagnostic_delay_months", 0.0),
     ("vital_capacity_percent", 0.0), ("vital_capacity_percent", math.nan),
     ("diagnostic_delay_months", math.inf), ("delta_fs", -0.5), ("delta_fs", True),
     ("age_at_onset_years", "60"), ("bulbar_onset", 2), ("ftd", "no"), ("definite_el_escorial", None),
     ("c9orf72", "yes"), ("c9orf72", 0.5)],
)  # fmt: skip
def test_each_invalid_predictor_is_named(field, value):
    with pytest.raises(InvalidInput) as caught:
        encals.linear_predictor(**{**TYPICAL, field: value})

    assert locations(caught.value) == {field}


def test_every_invalid_predictor_is_reported_at_once():
    bad = {
        **TYPICAL,
        "delta_fs": -1.0,
        "diagnostic_delay_months": -2.0,
        "vital_capacity_percent": 0.0,
    }

    with pytest.raises(InvalidInput) as caught:
        encals.linear_predictor(**bad)

    assert locations(caught.value) == {
        "delta_fs",
        "diagnostic_delay_months",
        "vital_capacity_percent",
    }
    assert "ENCALS predictors" in str(caught.value)


# ---------------------------------------------------------------- baseline and survival (§5.4)


def test_lambdas_come_from_the_knots():
    # λ_j = (k_max − k_j) / (k_max − k_min), not the public code's rounded constants (§5.4)
    spline = encals.BASELINE
    x = 3.3  # between k1 = 3.108 and k2 = 3.638
    lam1, lam2 = (5.917 - 3.108) / (5.917 - 0.081), (5.917 - 3.638) / (5.917 - 0.081)
    v1 = (x - 3.108) ** 3 - lam1 * (x - 0.081) ** 3
    v2 = -lam2 * (x - 0.081) ** 3

    assert spline(x) == pytest.approx(-6.409 + 2.643 * x - 0.546 * v1 + 0.585 * v2, rel=1e-12)


def test_spline_is_linear_before_the_first_knot():
    assert encals.BASELINE(-1.0) == pytest.approx(-6.409 - 2.643)


@pytest.mark.parametrize("x", [6.1, 6.5, 7.5, 9.0])  # x − h > k_max = 5.917
def test_spline_is_linear_beyond_the_last_knot(x):
    # A restricted cubic spline is linear past k_max only if the last basis term is cubed
    # (§5.5 warning 1): with (x − k_max)₊ not cubed, this second difference is not zero.
    h = 0.1
    second_difference = encals.BASELINE(x + h) - 2 * encals.BASELINE(x) + encals.BASELINE(x - h)

    assert second_difference == pytest.approx(0.0, abs=1e-9)


@pytest.mark.golden
@pytest.mark.parametrize(
    "row", golden_rows("encals_survival.csv"), ids=lambda r: f"{r['lp']}@{r['months']}-{r['scale']}"
)
def test_survival_against_golden(row):
    s = encals.survival(float(row["lp"]), float(row["months"]), scale=SurvivalScale(row["scale"]))

    assert s == pytest.approx(float(row["survival"]), rel=RTOL)


def test_survival_worked_by_hand_on_both_scales():
    x = math.log(24.0)  # 3.178: between k1 and k2
    lam1, lam2 = 2.809 / 5.836, 2.279 / 5.836
    s = (
        -6.409
        + 2.643 * x
        - 0.546 * ((x - 3.108) ** 3 - lam1 * (x - 0.081) ** 3)
        - 0.585 * lam2 * (x - 0.081) ** 3
    )
    z = s - 4.5

    assert encals.survival(-4.5, 24.0) == pytest.approx(1 / (1 + math.exp(z)), rel=1e-12)
    assert encals.survival(-4.5, 24.0, scale=SurvivalScale.HAZARD) == pytest.approx(
        math.exp(-math.exp(z)), rel=1e-12
    )


def test_extreme_lp_gives_zero_survival_without_overflow():
    assert encals.survival(1e6, 24.0, scale=SurvivalScale.HAZARD) == 0.0
    assert encals.survival(1e6, 24.0) == 0.0
    assert encals.survival(-1e6, 24.0) == 1.0


@pytest.mark.parametrize(
    ("lp", "months", "where"),
    [(math.nan, 12.0, {"lp"}), (math.inf, 12.0, {"lp"}), ("1", 12.0, {"lp"}), (True, 12.0, {"lp"}),
     (-4.0, 0.0, {"months_since_onset"}), (-4.0, -1.0, {"months_since_onset"}),
     (math.nan, math.nan, {"lp", "months_since_onset"})],
)  # fmt: skip
def test_survival_validates_its_inputs(lp, months, where):
    with pytest.raises(InvalidInput) as caught:
        encals.survival(lp, months)

    assert locations(caught.value) == where


# ---------------------------------------------------------------- median (§5.5)


@pytest.mark.golden
@pytest.mark.parametrize(
    "row", golden_rows("encals_median.csv"), ids=lambda r: f"{r['lp']}-{r['scale']}"
)
def test_median_against_golden(row):
    median = encals.median_survival_months(float(row["lp"]), scale=SurvivalScale(row["scale"]))

    if row["median_months"] == "":
        assert median is None
    else:
        assert median == pytest.approx(float(row["median_months"]), rel=RTOL)


@pytest.mark.parametrize("scale", list(SurvivalScale))
@pytest.mark.parametrize("lp", [-8.0, -4.5872, -2.0, 0.5, 6.5])
def test_median_solves_survival_one_half(lp, scale):
    median = encals.median_survival_months(lp, scale=scale)

    assert median is not None
    assert encals.survival(lp, median, scale=scale) == pytest.approx(0.5, abs=1e-12)


def test_median_closed_form_below_the_first_knot():
    # For a very high LP the median falls before exp(k_min) ≈ 1.08 months, where s is linear:
    # s(ln t) = −LP → ln t = (−LP + 6.409) / 2.643
    assert encals.median_survival_months(7.0) == pytest.approx(
        math.exp((6.409 - 7.0) / 2.643), rel=1e-12
    )


def test_median_not_reached_inside_the_search_bracket():
    assert encals.median_survival_months(-4.5, max_months=12.0) is None
    assert encals.median_survival_months(7.0, max_months=0.5) is None
    assert encals.median_survival_months(-20.0) is None


def test_median_validates_its_inputs():
    with pytest.raises(InvalidInput) as caught:
        encals.median_survival_months(math.nan, max_months=-1.0)

    assert locations(caught.value) == {"lp", "max_months"}


# ---------------------------------------------------------------- conditional survival (§5.5)


@pytest.mark.golden
@pytest.mark.parametrize(
    "row",
    golden_rows("encals_conditional.csv"),
    ids=lambda r: f"{r['lp']}-{r['months']}-{r['scale']}",
)
def test_conditional_survival_against_golden(row):
    p = encals.conditional_survival(
        float(row["lp"]),
        float(row["months"]),
        float(row["already_survived"]),
        scale=SurvivalScale(row["scale"]),
    )

    assert p == pytest.approx(float(row["survival"]), rel=RTOL)


def test_conditional_survival_is_higher_than_unconditional():
    # Having already survived 18 months makes reaching 30 more likely than it was at onset.
    assert encals.conditional_survival(-4.5, 30.0, 18.0) > encals.survival(-4.5, 30.0)


@pytest.mark.parametrize(
    ("months", "already", "where"),
    [(12.0, 18.0, {"months_since_onset"}), (12.0, 0.0, {"months_already_survived"}),
     (-1.0, math.nan, {"months_since_onset", "months_already_survived"})],
)  # fmt: skip
def test_conditional_survival_validates_its_inputs(months, already, where):
    with pytest.raises(InvalidInput) as caught:
        encals.conditional_survival(-4.0, months, already)

    assert locations(caught.value) == where


def test_conditional_survival_after_certain_death_is_refused():
    with pytest.raises(InvalidInput, match="no survival to this time"):
        encals.conditional_survival(2000.0, 30.0, 18.0, scale=SurvivalScale.HAZARD)


# ---------------------------------------------------------------- properties

lps = st.floats(min_value=-12.0, max_value=4.0)
months = st.floats(min_value=0.1, max_value=600.0)
scales = st.sampled_from(list(SurvivalScale))


@given(lps, months, months, scales)
def test_survival_never_rises_with_time(lp, t1, t2, scale):
    early, late = sorted((t1, t2))

    assert encals.survival(lp, early, scale=scale) >= encals.survival(lp, late, scale=scale)


@given(lps, lps, months, scales)
def test_survival_never_rises_with_lp(lp1, lp2, t, scale):
    low, high = sorted((lp1, lp2))

    assert encals.survival(low, t, scale=scale) >= encals.survival(high, t, scale=scale)


@given(lps, months, scales)
def test_survival_is_a_probability(lp, t, scale):
    assert 0.0 <= encals.survival(lp, t, scale=scale) <= 1.0


@given(lps, scales)
def test_median_solves_one_half_for_any_lp(lp, scale):
    median = encals.median_survival_months(lp, scale=scale)

    if median is None:
        assert encals.survival(lp, encals.MAX_MEDIAN_SEARCH_MONTHS, scale=scale) > 0.5
    else:
        assert encals.survival(lp, median, scale=scale) == pytest.approx(0.5, abs=1e-9)


@given(lps, months, st.floats(min_value=0.0, max_value=240.0), scales)
def test_conditional_survival_is_a_probability_and_one_at_the_start(lp, t0, ahead, scale):
    assume(encals.survival(lp, t0, scale=scale) > 0.0)  # otherwise refused, as tested above
    p = encals.conditional_survival(lp, t0 + ahead, t0, scale=scale)

    assert 0.0 <= p <= 1.0 + 1e-12
    assert encals.conditional_survival(lp, t0, t0, scale=scale) == 1.0
