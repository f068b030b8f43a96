"""Cell product: dose, release criteria and the USP <85> endotoxin limit (clinical.md §10, §12).

Endotoxin limits are worked by hand from §10: limit = K / M; per dose K × body weight, per mL the
per-dose limit over the dose volume; K = 0.2 EU/kg intrathecal, 5 EU/kg other parenteral routes; the
actual weight when below the 70 kg reference adult, else 70 kg. Doses are those of §12 (5 × 10^6 cells
for this program; 1 × 10^6 cells/kg in Oh 2015).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alscell.domain.product import (
    ENDOTOXIN_K_EU_PER_KG,
    CellProduct,
    Dose,
    ProductSource,
    ReleaseCriteria,
    Route,
    SterilityRelease,
    endotoxin_limit_eu,
)
from alscell.domain.schema import build
from alscell.errors import InvalidInput

PRODUCT: dict[str, Any] = {
    "name": "Xenogeneic neural stem cells",
    "source": "xenogeneic",
    "cell_type": "neural stem cells",
    "route": "intrathecal",
    "dose": {"cells": 5_000_000},
}


def problems_of(cls: type[Any], data: Mapping[str, object]) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        build(cls, data)
    return {problem.location: problem.message for problem in caught.value.problems}


def product(route: str, release: dict[str, Any] | None = None) -> dict[str, Any]:
    return {**PRODUCT, "route": route, "release": release or {}}


# ---------------------------------------------------------------- endotoxin limit (USP <85>)


def test_intrathecal_limit_for_a_thin_patient_uses_actual_weight():
    # K 0.2 EU/kg × 55 kg = 11 EU per dose
    assert endotoxin_limit_eu(0.2, 55.0) == pytest.approx(11.0)


def test_heavy_patient_is_capped_at_the_70_kg_reference():
    # 90 kg > 70 kg: 0.2 × 70 = 14 EU, not 0.2 × 90 = 18 EU
    assert endotoxin_limit_eu(0.2, 90.0) == pytest.approx(14.0)


def test_exactly_the_reference_weight():
    assert endotoxin_limit_eu(0.2, 70.0) == pytest.approx(14.0)


def test_per_ml_limit_divides_by_the_dose_volume():
    # 11 EU per dose in 5 mL = 2.2 EU/mL
    assert endotoxin_limit_eu(0.2, 55.0, volume_ml=5.0) == pytest.approx(2.2)


def test_intravenous_limit_uses_k_5():
    # K 5 EU/kg: 5 × 60 = 300 EU per dose; 300 EU in 100 mL = 3 EU/mL; 5 × 70 = 350 for 80 kg
    assert endotoxin_limit_eu(5.0, 60.0) == pytest.approx(300.0)
    assert endotoxin_limit_eu(5.0, 60.0, volume_ml=100.0) == pytest.approx(3.0)
    assert endotoxin_limit_eu(5.0, 80.0) == pytest.approx(350.0)


@pytest.mark.parametrize(
    ("k", "weight", "volume", "where"),
    [(0.0, 55.0, None, {"k_eu_per_kg"}), (-0.2, 55.0, None, {"k_eu_per_kg"}),
     (0.2, 0.0, None, {"weight_kg"}), (0.2, -55.0, None, {"weight_kg"}),
     (0.2, float("nan"), None, {"weight_kg"}), (0.2, 55.0, 0.0, {"volume_ml"}),
     (0.2, 55.0, -5.0, {"volume_ml"}),
     (0.0, -1.0, 0.0, {"k_eu_per_kg", "weight_kg", "volume_ml"})],
)  # fmt: skip
def test_invalid_endotoxin_inputs_are_named(k, weight, volume, where):
    with pytest.raises(InvalidInput) as caught:
        endotoxin_limit_eu(k, weight, volume_ml=volume)

    assert {problem.location for problem in caught.value.problems} == where
    assert caught.value.subject == "endotoxin limit"


def test_route_k_values_follow_usp_85():
    assert dict(ENDOTOXIN_K_EU_PER_KG) == {
        Route.INTRATHECAL: 0.2,
        Route.INTRASPINAL: 0.2,  # into the spinal cord: treated like the CSF, the stricter K
        Route.INTRAVENOUS: 5.0,
        Route.INTRAMUSCULAR: 5.0,
    }


# ---------------------------------------------------------------- dose


def test_absolute_dose_range_is_the_tolerance_either_side():
    # 5 × 10^6 ± 10 % = 4.5 × 10^6 .. 5.5 × 10^6, whatever the weight
    low, high = Dose(cells=5_000_000).range_cells()

    assert low == pytest.approx(4_500_000)
    assert high == pytest.approx(5_500_000)
    assert Dose(cells=5_000_000).range_cells(90.0) == (low, high)


def test_per_kg_dose_range_uses_the_weight():
    # Oh 2015: 1 × 10^6 cells/kg; 55 kg → 55 × 10^6 ± 10 % = 49.5 .. 60.5 × 10^6
    low, high = Dose(cells_per_kg=1_000_000).range_cells(55.0)

    assert low == pytest.approx(49_500_000)
    assert high == pytest.approx(60_500_000)


def test_zero_tolerance_is_an_exact_count():
    assert Dose(cells=5_000_000, tolerance_percent=0).range_cells() == (5_000_000, 5_000_000)


@pytest.mark.parametrize("weight", [None, 0.0, -70.0, float("nan")])
def test_per_kg_dose_without_a_positive_weight_is_refused(weight):
    with pytest.raises(InvalidInput) as caught:
        Dose(cells_per_kg=1_000_000).range_cells(weight)

    assert [problem.location for problem in caught.value.problems] == ["weight_kg"]
    assert caught.value.subject == "dose"


@pytest.mark.parametrize(
    ("dose", "text"),
    [(Dose(cells=5_000_000), "5 × 10^6 viable cells ± 10 %"),
     (Dose(cells=150_000_000, tolerance_percent=12.5, viable_cells=False), "1.5 × 10^8 cells ± 12.5 %"),
     (Dose(cells=100_000, tolerance_percent=0), "1 × 10^5 viable cells ± 0 %")],
)  # fmt: skip
def test_describe_absolute_dose(dose, text):
    assert dose.describe() == text


def test_describe_per_kg_dose():
    text = Dose(cells_per_kg=1_000_000, tolerance_percent=20).describe()

    assert text == "1 × 10^6 viable cells/kg ± 20 %"


def test_describe_an_unvalidated_dose_without_amount_shows_a_question_mark():
    # Dose() bypasses build(), which would refuse it; describe() must still not crash
    assert Dose().describe() == "? viable cells/kg ± 10 %"


def test_describe_keeps_the_mantissa_below_ten_when_rounding_carries():
    assert Dose(cells=9_999_999).describe() == "1 × 10^7 viable cells ± 10 %"
    assert Dose(cells=112_500_000).describe() == "1.125 × 10^8 viable cells ± 10 %"


def test_build_dose():
    assert build(Dose, {"cells": 5_000_000, "tolerance_percent": 10}) == Dose(cells=5e6)
    assert build(Dose, {"cells_per_kg": 1e6, "viable_cells": False}) == Dose(
        cells_per_kg=1e6, viable_cells=False
    )


@pytest.mark.parametrize(
    "data", [{"cells": 5_000_000, "cells_per_kg": 1_000_000}, {}, {"tolerance_percent": 10}]
)
def test_build_needs_exactly_one_of_cells_and_cells_per_kg(data):
    assert problems_of(Dose, data) == {"cells": "give exactly one of cells or cells_per_kg"}


@pytest.mark.parametrize(
    ("data", "where"),
    [({"cells": 5e6, "tolerance_percent": 100.5}, "tolerance_percent"),
     ({"cells": 5e6, "tolerance_percent": -1}, "tolerance_percent"),
     ({"cells": 0}, "cells"), ({"cells_per_kg": -1e6}, "cells_per_kg"),
     ({"cells": "5e6"}, "cells")],
)  # fmt: skip
def test_build_refuses_out_of_range_dose_fields(data, where):
    assert set(problems_of(Dose, data)) == {where}


def test_tolerance_of_exactly_100_percent_is_accepted():
    assert build(Dose, {"cells": 5e6, "tolerance_percent": 100}).range_cells() == (0.0, 1e7)


# ---------------------------------------------------------------- release criteria


def test_release_defaults_are_the_references():
    release = ReleaseCriteria()

    assert release.viability_percent_min == 70  # §10: ≥ 70 %
    assert release.sterility is SterilityRelease.NO_GROWTH
    assert release.gram_stain_negative is True
    assert release.mycoplasma_negative is True
    assert release.endotoxin_k_eu_per_kg is None


def test_no_growth_to_date_needs_a_negative_gram_stain():
    data = {"sterility": "no_growth_to_date", "gram_stain_negative": False}

    assert problems_of(ReleaseCriteria, data) == {
        "gram_stain_negative": "must be true when releasing on no growth to date"
    }


def test_no_growth_to_date_with_gram_stain_is_accepted():
    release = build(ReleaseCriteria, {"sterility": "no_growth_to_date"})

    assert release.sterility is SterilityRelease.NO_GROWTH_TO_DATE


def test_final_culture_release_does_not_need_the_gram_stain():
    release = build(ReleaseCriteria, {"sterility": "no_growth", "gram_stain_negative": False})

    assert release.gram_stain_negative is False


@pytest.mark.parametrize(
    "data", [{"identity_marker": "CD271"}, {"identity_marker_min_percent": 90}]
)
def test_identity_marker_and_its_minimum_come_together(data):
    assert problems_of(ReleaseCriteria, data) == {
        "identity_marker_min_percent": "give identity_marker and its minimum together"
    }


def test_identity_marker_with_its_minimum_is_accepted():
    # §10 example: CD271+ ≥ 90 %
    release = build(
        ReleaseCriteria, {"identity_marker": "CD271", "identity_marker_min_percent": 90}
    )

    assert (release.identity_marker, release.identity_marker_min_percent) == ("CD271", 90.0)


@pytest.mark.parametrize(
    ("data", "where"),
    [({"viability_percent_min": 101}, "viability_percent_min"),
     ({"viability_percent_min": -1}, "viability_percent_min"),
     ({"endotoxin_k_eu_per_kg": 0}, "endotoxin_k_eu_per_kg"),
     ({"sterility": "negative"}, "sterility")],
)  # fmt: skip
def test_build_refuses_out_of_range_release_fields(data, where):
    assert set(problems_of(ReleaseCriteria, data)) == {where}


# ---------------------------------------------------------------- cell product


def test_build_the_programs_product():
    built = build(CellProduct, {**PRODUCT, "release": {"endotoxin_k_eu_per_kg": 0.2}})

    assert built.source is ProductSource.XENOGENEIC
    assert built.route is Route.INTRATHECAL
    assert built.dose == Dose(cells=5e6)
    assert built.endotoxin_k_eu_per_kg == 0.2


@pytest.mark.parametrize(
    ("route", "k", "message"),
    [("intrathecal", 0.3, "must be <= 0.2 EU/kg for the intrathecal route (USP <85>), got 0.3"),
     ("intrathecal", 5.0, "must be <= 0.2 EU/kg for the intrathecal route (USP <85>), got 5"),
     ("intraspinal", 0.21, "must be <= 0.2 EU/kg for the intraspinal route (USP <85>), got 0.21"),
     ("intravenous", 5.5, "must be <= 5 EU/kg for the intravenous route (USP <85>), got 5.5"),
     ("intramuscular", 6, "must be <= 5 EU/kg for the intramuscular route (USP <85>), got 6")],
)  # fmt: skip
def test_product_refuses_a_k_above_the_routes_usp_limit(route, k, message):
    data = product(route, {"endotoxin_k_eu_per_kg": k})

    assert problems_of(CellProduct, data) == {"release.endotoxin_k_eu_per_kg": message}


@pytest.mark.parametrize(
    ("route", "k"),
    [("intrathecal", 0.2), ("intrathecal", 0.1), ("intravenous", 5.0), ("intravenous", 0.2),
     ("intraspinal", 0.05)],
)  # fmt: skip
def test_product_accepts_the_usp_k_or_a_stricter_one(route, k):
    built = build(CellProduct, product(route, {"endotoxin_k_eu_per_kg": k}))

    assert built.endotoxin_k_eu_per_kg == k


@pytest.mark.parametrize(
    ("route", "k"),
    [("intrathecal", 0.2), ("intraspinal", 0.2), ("intravenous", 5.0), ("intramuscular", 5.0)],
)
def test_product_k_defaults_to_the_routes_usp_value(route, k):
    built = build(CellProduct, product(route))

    assert built.release.endotoxin_k_eu_per_kg is None
    assert built.endotoxin_k_eu_per_kg == k


def test_product_k_is_never_laxer_than_the_routes_even_unvalidated():
    valid = build(CellProduct, product("intrathecal"))
    lax = dataclasses.replace(valid, release=ReleaseCriteria(endotoxin_k_eu_per_kg=5.0))

    assert lax.endotoxin_k_eu_per_kg == 0.2


def test_product_problems_are_reported_with_the_nested_dose_path():
    assert problems_of(CellProduct, {**PRODUCT, "dose": {"cells": 5e6, "cells_per_kg": 1e6}}) == {
        "dose.cells": "give exactly one of cells or cells_per_kg"
    }


def test_product_requires_its_identity_fields():
    assert set(problems_of(CellProduct, {})) == {"name", "source", "cell_type", "route", "dose"}


def test_product_volume_and_lead_time_are_checked():
    data = {**PRODUCT, "volume_ml": 0, "manufacturing_lead_days": -1}

    assert set(problems_of(CellProduct, data)) == {"volume_ml", "manufacturing_lead_days"}


def test_per_patient_endotoxin_limit_for_the_programs_product():
    # §12: compute the per-dose limit per patient. Intrathecal 0.2 × 48 kg = 9.6 EU; in 2 mL 4.8 EU/mL
    built = build(CellProduct, {**PRODUCT, "volume_ml": 2})

    limit = endotoxin_limit_eu(built.endotoxin_k_eu_per_kg, 48.0, volume_ml=built.volume_ml)

    assert limit == pytest.approx(4.8)


# ---------------------------------------------------------------- properties

ks = st.sampled_from([0.2, 5.0])
weights = st.floats(min_value=1.0, max_value=250.0)


@given(ks, weights)
def test_limit_is_k_times_weight_capped_at_70_kg(k, weight):
    expected = k * weight if weight < 70 else k * 70

    assert endotoxin_limit_eu(k, weight) == pytest.approx(expected)


@given(ks, weights, weights)
def test_a_lighter_patient_never_gets_a_laxer_limit(k, w1, w2):
    light, heavy = sorted((w1, w2))

    assert endotoxin_limit_eu(k, light) <= endotoxin_limit_eu(k, heavy)


@given(
    st.floats(min_value=1e3, max_value=1e9),
    st.integers(min_value=0, max_value=100),
    st.one_of(st.none(), st.floats(min_value=1, max_value=200)),
)
def test_dose_range_brackets_the_target(cells, tolerance, weight):
    low, high = Dose(cells=cells, tolerance_percent=tolerance).range_cells(weight)

    assert low <= cells <= high
    assert high - low == pytest.approx(2 * cells * tolerance / 100, abs=1e-6)


@pytest.mark.parametrize(
    ("k", "weight", "field"),
    [
        (float("inf"), 60.0, "k_eu_per_kg"),
        (True, 60.0, "k_eu_per_kg"),
        (0.2, float("nan"), "weight_kg"),
    ],
)
def test_endotoxin_limit_refuses_non_finite_and_boolean_inputs(k, weight, field):
    with pytest.raises(InvalidInput) as caught:
        endotoxin_limit_eu(k, weight)

    assert [problem.location for problem in caught.value.problems] == [field]
