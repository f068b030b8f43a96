"""The cell product a protocol administers: identity, dose and release criteria (clinical.md §10, §12).

The endotoxin limit follows USP <85>: limit = K / M, with K = 0.2 EU/kg for intrathecal administration
and 5 EU/kg for other parenteral routes; per dose, K × body weight, using the patient's actual weight
when below the 70 kg reference adult (the stricter limit; clinical.md §10).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from alscell.domain.schema import constraint
from alscell.errors import InvalidInput, Problem

__all__ = [
    "ENDOTOXIN_K_EU_PER_KG",
    "REFERENCE_WEIGHT_KG",
    "CellProduct",
    "Dose",
    "ProductSource",
    "ReleaseCriteria",
    "Route",
    "SterilityRelease",
    "endotoxin_limit_eu",
]


class ProductSource(StrEnum):
    """Where the cells come from (clinical.md §12)."""

    AUTOLOGOUS = "autologous"
    ALLOGENEIC = "allogeneic"
    XENOGENEIC = "xenogeneic"


class Route(StrEnum):
    """How cells are given (clinical.md §12, protocol-engine fields)."""

    INTRATHECAL = "intrathecal"
    INTRASPINAL = "intraspinal"
    INTRAVENOUS = "intravenous"
    INTRAMUSCULAR = "intramuscular"


class SterilityRelease(StrEnum):
    """What sterility result releases a unit (clinical.md §10, release logic).

    ``no_growth``: the final 14-day culture. ``no_growth_to_date``: fresh products released on a negative
    Gram stain with cultures still running, under a procedure to notify and follow up the patient if a
    culture later turns positive (standard practice; UNVERIFIED as a formal rule).
    """

    NO_GROWTH = "no_growth"
    NO_GROWTH_TO_DATE = "no_growth_to_date"


REFERENCE_WEIGHT_KG: Final = 70.0
ENDOTOXIN_K_EU_PER_KG: Final[Mapping[Route, float]] = MappingProxyType(
    {
        Route.INTRATHECAL: 0.2,
        Route.INTRASPINAL: 0.2,
        Route.INTRAVENOUS: 5.0,
        Route.INTRAMUSCULAR: 5.0,
    }
)
"""USP <85> K by route: 0.2 EU/kg into the CSF or spinal cord, 5 EU/kg for other parenteral routes."""


@dataclass(frozen=True, slots=True)
class Dose:
    """Cells per administration: an absolute count or per kg of body weight, with a tolerance."""

    cells: float | None = field(default=None, metadata=constraint(gt=0))
    cells_per_kg: float | None = field(default=None, metadata=constraint(gt=0))
    tolerance_percent: float = field(default=10.0, metadata=constraint(ge=0, le=100))
    viable_cells: bool = True
    note: str | None = None

    def problems(self) -> Iterable[tuple[str, str]]:
        if (self.cells is None) == (self.cells_per_kg is None):
            yield "cells", "give exactly one of cells or cells_per_kg"

    def range_cells(self, weight_kg: float | None = None) -> tuple[float, float]:
        """Lowest and highest acceptable cell count for one administration.

        Raises
        ------
        InvalidInput
            If the dose is per kg and no positive ``weight_kg`` is given.
        """
        target = self.cells
        if target is None:
            if weight_kg is None or not weight_kg > 0:
                problem = Problem("weight_kg", "a positive body weight is needed for a per-kg dose")
                raise InvalidInput([problem], subject="dose")
            target = (self.cells_per_kg or 0.0) * weight_kg
        spread = target * self.tolerance_percent / 100
        return target - spread, target + spread

    def describe(self) -> str:
        """The dose in words, e.g. ``5 × 10^6 viable cells ± 10 %``."""
        viable = "viable " if self.viable_cells else ""
        tolerance = f"± {self.tolerance_percent:g} %"
        if self.cells is not None:
            return f"{_scientific(self.cells)} {viable}cells {tolerance}"
        return f"{_scientific(self.cells_per_kg)} {viable}cells/kg {tolerance}"


@dataclass(frozen=True, slots=True)
class ReleaseCriteria:
    """What a unit must show before it may be given (clinical.md §10). Defaults are the reference's."""

    viability_percent_min: float = field(default=70.0, metadata=constraint(ge=0, le=100))
    sterility: SterilityRelease = SterilityRelease.NO_GROWTH
    gram_stain_negative: bool = True
    mycoplasma_negative: bool = True
    endotoxin_k_eu_per_kg: float | None = field(default=None, metadata=constraint(gt=0))
    identity_marker: str | None = None
    identity_marker_min_percent: float | None = field(
        default=None, metadata=constraint(ge=0, le=100)
    )
    potency_assay: str | None = None

    def problems(self) -> Iterable[tuple[str, str]]:
        if self.sterility is SterilityRelease.NO_GROWTH_TO_DATE and not self.gram_stain_negative:
            yield "gram_stain_negative", "must be true when releasing on no growth to date"
        if (self.identity_marker is None) != (self.identity_marker_min_percent is None):
            yield "identity_marker_min_percent", "give identity_marker and its minimum together"


@dataclass(frozen=True, slots=True)
class CellProduct:
    """The protocol's cell product specification (clinical.md §10, §12)."""

    name: str
    source: ProductSource
    cell_type: str
    route: Route
    dose: Dose
    release: ReleaseCriteria = ReleaseCriteria()
    tissue_source: str | None = None
    manipulation: str | None = None
    volume_ml: float | None = field(default=None, metadata=constraint(gt=0))
    manufacturing_lead_days: int | None = field(default=None, metadata=constraint(ge=0))

    def problems(self) -> Iterable[tuple[str, str]]:
        limit = ENDOTOXIN_K_EU_PER_KG[self.route]
        given = self.release.endotoxin_k_eu_per_kg
        if given is not None and given > limit:
            yield (
                "release.endotoxin_k_eu_per_kg",
                f"must be <= {limit:g} EU/kg for the {self.route} route (USP <85>), got {given:g}",
            )

    @property
    def endotoxin_k_eu_per_kg(self) -> float:
        """K used for this product: the protocol's own if stricter, else the route's USP <85> value."""
        route_k = ENDOTOXIN_K_EU_PER_KG[self.route]
        given = self.release.endotoxin_k_eu_per_kg
        return route_k if given is None else min(given, route_k)


def endotoxin_limit_eu(
    k_eu_per_kg: float, weight_kg: float, *, volume_ml: float | None = None
) -> float:
    """Endotoxin limit per dose in EU, or per mL when ``volume_ml`` is given (clinical.md §10).

    Per dose = K × min(weight, 70 kg): the actual weight when below the reference adult, which is the
    stricter limit for the thin patients ALS often makes.

    Raises
    ------
    InvalidInput
        If K, weight or volume is not a positive number.
    """
    values = {"k_eu_per_kg": k_eu_per_kg, "weight_kg": weight_kg, "volume_ml": volume_ml}
    problems = [
        Problem(name, f"must be a finite number > 0, got {value!r}")
        for name, value in values.items()
        if value is not None and not _positive(value)
    ]
    if problems:
        raise InvalidInput(problems, subject="endotoxin limit")
    per_dose = k_eu_per_kg * min(weight_kg, REFERENCE_WEIGHT_KG)
    return per_dose if volume_ml is None else per_dose / volume_ml


def _positive(value: object) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and value > 0
    )


def _scientific(value: float | None) -> str:
    if value is None:
        return "?"
    mantissa, exponent = f"{value:.5e}".split("e")  # six significant digits, mantissa in [1, 10)
    return f"{float(mantissa):g} × 10^{int(exponent)}"
