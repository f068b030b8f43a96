"""A linear mixed model of ALSFRS-R with a change in slope at the first implantation (clinical.md §7.5, §7.6).

For rating j of patient i, t_ij months from the patient's first implantation (negative before)::

    total_ij = β0 + β1·t_ij + β2·(t_ij)₊ + b0_i + b1_i·t_ij + ε_ij,        (t)₊ = max(t, 0)
    (b0_i, b1_i) ~ N(0, G), G a general 2×2 covariance;   ε_ij ~ N(0, s²);   all independent

β1 is the pre-treatment slope, β2 the change in slope after the first implantation and β1 + β2 the
post-treatment slope, in points/month; ratings before treatment carry the pre-treatment slope. Each
patient has a random intercept and slope, as in the PRO-ACT models (clinical.md §7.6).

Estimation is REML, with s² profiled out as lme4 and statsmodels do. With Ψ = G/s² = ΛΛᵀ (Λ lower
triangular, so G stays positive semi-definite, boundary included) and per patient Mᵢ = I₂ + ΛᵀZᵢᵀZᵢΛ,
Woodbury and Sylvester give Hᵢ⁻¹ = I − ZᵢΛMᵢ⁻¹ΛᵀZᵢᵀ and log|Hᵢ| = log|Mᵢ| for Vᵢ = ZᵢGZᵢᵀ + s²I = s²Hᵢ.
So A = Σ XᵢᵀHᵢ⁻¹Xᵢ, β̂ = A⁻¹ Σ XᵢᵀHᵢ⁻¹yᵢ and r² = Σ (yᵢ − Xᵢβ̂)ᵀHᵢ⁻¹(yᵢ − Xᵢβ̂) need only the per-patient
sums ZᵀZ, ZᵀX, Zᵀy and the cohort's XᵀX, Xᵀy, yᵀy: each evaluation is O(patients) in batched 2×2
algebra. With N ratings, p = 3 fixed effects and ŝ² = r²/(N − p), the REML log-likelihood is

    logL = −½ [(N − p)(1 + log(2π ŝ²)) + Σ log|Mᵢ| + log|A|]

(statsmodels' convention), maximised over Λ by BFGS with the analytic gradient.

The fixed effects' covariance is ŝ²A⁻¹ = (Σ XᵢᵀVᵢ⁻¹Xᵢ)⁻¹ at the estimate. The intervals are Wald
intervals with the normal quantile that treat G and s² as known: with few patients they are too
narrow. The patients' random effects are BLUPs, b̂ᵢ = GZᵢᵀVᵢ⁻¹(yᵢ − Xᵢβ̂).

Without a concurrent control the change in slope describes this cohort and is never evidence that the
treatment worked: regression to the mean, decline that slows with time and plateaus all make post-slopes
look better without treatment (clinical.md §7.5). Ratings stop at death, so dropout is informative and
the model, which assumes ratings missing at random, leans towards survivors (clinical.md §7.6).

References
----------
Laird NM, Ware JH. Random-effects models for longitudinal data. Biometrics 1982;38:963-974.
Bates D, Mächler M, Bolker B, Walker S. Fitting linear mixed-effects models using lme4. J Stat Softw
2015;67(1):1-48 (the profiled REML criterion over the relative covariance factor Λ).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.stats import norm

from alscell.domain.alsfrs import MAX_TOTAL
from alscell.errors import InsufficientData, InvalidInput, Problem

__all__ = [
    "CONFIDENCE",
    "Estimate",
    "MixedModelFit",
    "PatientEffects",
    "PatientRatings",
    "RandomEffectsCovariance",
    "fit_mixed_model",
]

CONFIDENCE: Final = 0.95
FIXED_EFFECTS: Final = 3
"""p: intercept, pre-treatment slope, change in slope."""
MAX_ITERATIONS: Final = 1_000
GRADIENT_TOLERANCE: Final = 1e-6
"""Largest gradient of the REML criterion per rating (Λ with time in SDs) accepted as converged."""
BOUNDARY_TOLERANCE: Final = 1e-2
"""A diagonal of Λ (time in SDs of the cohort's rating times) at or below this is a boundary fit."""
METHOD: Final = (
    "Linear mixed model, random intercept and slope per patient, change in slope at the first "
    "implantation, REML (clinical.md §7.6)"
)
BASE_CAVEATS: Final = (
    "Without a concurrent control the change in slope describes this cohort and is not evidence "
    "that the treatment worked: regression to the mean, slowing decline and plateaus make "
    "post-slopes look better without treatment (clinical.md §7.5).",
    "Ratings stop at death, so dropout is informative; the model assumes ratings missing at random "
    "and leans towards survivors (clinical.md §7.6).",
    "Confidence intervals are Wald intervals with the normal quantile that treat the variance "
    "components as known; with few patients they are too narrow.",
)


@dataclass(frozen=True, slots=True)
class PatientRatings:
    """One patient's ALSFRS-R totals and when they were rated."""

    patient: str
    months: Sequence[float]
    """Months from the patient's first implantation: negative before, 0 on the day."""
    totals: Sequence[float]
    """ALSFRS-R totals (0-48), one per time in ``months``."""


@dataclass(frozen=True, slots=True)
class Estimate:
    """A fixed effect with its standard error and Wald confidence interval."""

    value: float
    standard_error: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class RandomEffectsCovariance:
    """G: the covariance of the patients' random intercepts (points) and slopes (points/month)."""

    intercept_variance: float
    slope_variance: float
    covariance: float

    @property
    def matrix(self) -> NDArray[np.float64]:
        """G as a 2×2 array, intercept first."""
        return np.array(
            [
                [self.intercept_variance, self.covariance],
                [self.covariance, self.slope_variance],
            ]
        )


@dataclass(frozen=True, slots=True)
class PatientEffects:
    """A patient's predicted (BLUP) deviation from the cohort's intercept and slope."""

    patient: str
    intercept: float
    slope: float
    n_ratings: int


@dataclass(frozen=True, slots=True, eq=False)  # holds an array: compared by identity
class MixedModelFit:
    """The fitted model: fixed effects with intervals, variance components and patients' BLUPs."""

    intercept: Estimate
    """β0: the cohort's mean total at the first implantation, points."""
    pre_slope: Estimate
    """β1: mean slope before the first implantation, points/month."""
    slope_change: Estimate
    """β2: mean change in slope after the first implantation, points/month (descriptive)."""
    post_slope: Estimate
    """β1 + β2: mean slope after the first implantation, points/month."""
    fixed_effects_covariance: NDArray[np.float64]
    """Covariance of (β0, β1, β2) = (Σ XᵢᵀVᵢ⁻¹Xᵢ)⁻¹ at the estimate."""
    random_effects_covariance: RandomEffectsCovariance
    residual_variance: float
    """s²: variance of a rating around the patient's line, points²."""
    patients: tuple[PatientEffects, ...]
    """BLUPs, in input order."""
    n_patients: int
    n_ratings: int
    reml_log_likelihood: float
    converged: bool
    boundary: bool
    """G is (near) singular, e.g. no detectable variation of slopes between patients."""
    iterations: int
    confidence: float
    method: str
    caveats: tuple[str, ...]
    _positions: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        positions = {effects.patient: i for i, effects in enumerate(self.patients)}
        object.__setattr__(self, "_positions", positions)  # frozen: set once, here

    @property
    def fixed_effects(self) -> NDArray[np.float64]:
        """(β0, β1, β2)."""
        return np.array([self.intercept.value, self.pre_slope.value, self.slope_change.value])

    def effects_of(self, patient: str) -> PatientEffects:
        """The BLUPs of one patient; ``KeyError`` if the patient was not in the fit."""
        return self.patients[self._positions[patient]]

    def predict_cohort(self, months: Sequence[float] | NDArray[np.float64]) -> NDArray[np.float64]:
        """The cohort's mean trajectory β0 + β1·t + β2·(t)₊ at ``months`` from first implantation."""
        t = np.asarray(months, dtype=np.float64)
        return np.asarray(_design(t) @ self.fixed_effects, dtype=np.float64)

    def predict(
        self, patient: str, months: Sequence[float] | NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """A patient's predicted trajectory: the cohort's plus the patient's b̂0 + b̂1·t."""
        effects = self.effects_of(patient)
        t = np.asarray(months, dtype=np.float64)
        return self.predict_cohort(t) + effects.intercept + effects.slope * t

    def trajectories(self, months: Sequence[float] | NDArray[np.float64]) -> NDArray[np.float64]:
        """Every patient's predicted trajectory: one row per patient (input order), one column per time."""
        t = np.asarray(months, dtype=np.float64)
        blups = np.array([[e.intercept, e.slope] for e in self.patients]).reshape(-1, 2)
        rows = self.predict_cohort(t)[None, :] + blups[:, :1] + blups[:, 1:] * t[None, :]
        return np.asarray(rows, dtype=np.float64)


# ---------------------------------------------------------------- input


@dataclass(frozen=True, slots=True)
class _Cohort:
    keys: tuple[str, ...]
    index: NDArray[np.intp]
    months: NDArray[np.float64]
    totals: NDArray[np.float64]


def _design(months: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.column_stack([np.ones_like(months), months, np.maximum(months, 0.0)])


def _where(position: int, record: PatientRatings) -> str:
    return f"patients[{position}] ({record.patient!r})"


def _numbers(where: str, values: object) -> tuple[NDArray[np.float64], list[Problem]]:
    """``values`` as a flat float array; nothing and a problem if they are not numbers."""
    try:
        numbers = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        return np.empty(0), [Problem(where, f"must be a sequence of numbers, got {values!r}")]
    if numbers.ndim != 1:
        return np.empty(0), [Problem(where, f"must be a flat sequence of numbers, got {values!r}")]
    return numbers, []


def _read_patient(
    position: int, record: PatientRatings, seen: dict[str, int]
) -> tuple[NDArray[np.float64], NDArray[np.float64], list[Problem]]:
    """A patient's times and totals, or empty arrays and the problems with their key and shape."""
    where, none = _where(position, record), np.empty(0)
    if not isinstance(record.patient, str) or not record.patient:
        return (
            none,
            none,
            [Problem(f"patients[{position}].patient", "must be a non-empty text key")],
        )
    if record.patient in seen:
        rule = f"duplicate patient key, also at patients[{seen[record.patient]}]"
        return none, none, [Problem(f"{where}.patient", rule)]
    seen[record.patient] = position
    months, problems = _numbers(f"{where}.months", record.months)
    totals, more = _numbers(f"{where}.totals", record.totals)
    problems += more
    if not problems and len(months) != len(totals):
        rule = f"must have one total per time: {len(months)} times, {len(totals)} totals"
        problems.append(Problem(f"{where}.totals", rule))
    if not problems and len(months) == 0:
        problems.append(Problem(f"{where}.months", "must have at least one rating"))
    return (none, none, problems) if problems else (months, totals, [])


def _value_problems(
    records: Sequence[PatientRatings], read: Sequence[tuple[NDArray[np.float64], ...]]
) -> list[Problem]:
    """Every time that is not finite and every total outside 0-48, by patient and position."""
    sizes = [len(months) for months, *_ in read]
    owner = np.repeat(np.arange(len(read)), sizes)
    position = np.arange(sum(sizes)) - np.repeat(np.cumsum([0, *sizes])[:-1], sizes)
    months = np.concatenate([np.empty(0), *(m for m, *_ in read)])
    totals = np.concatenate([np.empty(0), *(t for _, t, *_ in read)])
    checks = (
        ("months", months, ~np.isfinite(months), "must be a finite number"),
        ("totals", totals, ~((totals >= 0) & (totals <= MAX_TOTAL)), f"must be 0-{MAX_TOTAL}"),
    )
    return [
        Problem(
            f"{_where(owner[k], records[owner[k]])}.{name}[{position[k]}]",
            f"{rule}, got {values[k]!r}",
        )
        for name, values, bad, rule in checks
        for k in np.flatnonzero(bad)
    ]


def _cohort_problems(
    records: Sequence[PatientRatings], months: NDArray[np.float64]
) -> list[Problem]:
    problems = []
    if len(records) < 2:
        problems.append(Problem("patients", f"need at least 2 patients, got {len(records)}"))
    if all(len(record.months) < 2 for record in records):
        problems.append(Problem("patients", "at least one patient needs 2 or more ratings"))
    for side, found in (("before", np.any(months < 0)), ("after", np.any(months > 0))):
        if not found:
            rule = f"need a rating {side} the first implantation (month 0) for the change in slope"
            problems.append(Problem("patients.months", rule))
    return problems


def _cohort(records: Sequence[PatientRatings]) -> _Cohort:
    cohort = _well_formed_cohort(records)
    return cohort if cohort is not None else _checked_cohort(records)


def _well_formed_cohort(records: Sequence[PatientRatings]) -> _Cohort | None:
    """The cohort read in bulk when every record is well formed; None to read it record by record.

    The same rules as :func:`_checked_cohort`, tested on whole arrays: distinct non-empty text keys,
    as many totals as times, at least one rating each, finite times, totals 0-48 and the cohort's
    own rules. Anything else (or anything odd) is left to the slow path, which names each problem.
    """
    keys = tuple(record.patient for record in records)
    sizes = [_flat_size(record.months) for record in records]
    if (
        not all(type(key) is str and key for key in keys)
        or len(set(keys)) != len(keys)
        or min(sizes, default=0) < 1
        or sizes != [_flat_size(record.totals) for record in records]
    ):
        return None
    try:
        months = np.fromiter(chain.from_iterable(r.months for r in records), np.float64, sum(sizes))
        totals = np.fromiter(chain.from_iterable(r.totals for r in records), np.float64, sum(sizes))
    except (TypeError, ValueError):
        return None
    if not (
        np.isfinite(months).all()
        and ((totals >= 0) & (totals <= MAX_TOTAL)).all()
        and not _cohort_problems(records, months)
    ):
        return None
    index = np.repeat(np.arange(len(records)), sizes)
    return _Cohort(keys=keys, index=index, months=months, totals=totals)


def _flat_size(values: object) -> int:
    """The length of a tuple, list or flat array; -1 for anything else (read record by record)."""
    if isinstance(values, tuple | list) or (isinstance(values, np.ndarray) and values.ndim == 1):
        return len(values)
    return -1


def _checked_cohort(records: Sequence[PatientRatings]) -> _Cohort:
    seen: dict[str, int] = {}
    read = [_read_patient(i, record, seen) for i, record in enumerate(records)]
    problems = [problem for *_, found in read for problem in found]
    problems += _value_problems(records, [(m, t) for m, t, _ in read])
    months = np.concatenate([np.empty(0), *(m for m, _, _ in read)])
    if not problems:
        problems = _cohort_problems(records, months)
    if problems:
        raise InvalidInput(problems, subject="mixed-model ratings")
    sizes = [len(m) for m, _, _ in read]
    return _Cohort(
        keys=tuple(record.patient for record in records),
        index=np.repeat(np.arange(len(records)), sizes),
        months=months,
        totals=np.concatenate([t for _, t, _ in read]),
    )


# ---------------------------------------------------------------- sufficient statistics
# Per-patient matrices are stacked with the patient last, (rows, columns, patients), so that 2×2
# algebra is a few elementwise products over all patients at once (see _times).


@dataclass(frozen=True, slots=True)
class _Sums:
    """Per-patient ZᵀZ (2×2×m), ZᵀX (2×3×m), Zᵀy (2×1×m), yᵀy (m); the cohort's XᵀX, Xᵀy, yᵀy."""

    ztz: NDArray[np.float64]
    ztx: NDArray[np.float64]
    zty: NDArray[np.float64]
    yty_each: NDArray[np.float64]
    xtx: NDArray[np.float64]
    xty: NDArray[np.float64]
    yty: float
    n_ratings: int
    offset: float
    """The mean total, subtracted from every total before the sums (less cancellation in r²)."""
    theta_scale: NDArray[np.float64]
    """(1, SD of times, SD of times): Λ's entries, time in SDs, are these times Λ's entries."""


def _sums(cohort: _Cohort) -> _Sums:
    offset = float(np.mean(cohort.totals))
    t, y, tp = cohort.months, cohort.totals - offset, np.maximum(cohort.months, 0.0)

    def per_patient(weights: NDArray[np.float64]) -> NDArray[np.float64]:
        sums = np.bincount(cohort.index, weights=weights, minlength=len(cohort.keys))
        return np.asarray(sums, dtype=np.float64)

    n, st, stt = per_patient(np.ones_like(t)), per_patient(t), per_patient(t * t)
    stp, sttp = per_patient(tp), per_patient(t * tp)
    x = _design(t)
    return _Sums(
        ztz=np.array([[n, st], [st, stt]]),
        ztx=np.array([[n, st, stp], [st, stt, sttp]]),
        zty=np.array([[per_patient(y)], [per_patient(t * y)]]),
        yty_each=per_patient(y * y),
        xtx=x.T @ x,
        xty=x.T @ y,
        yty=float(y @ y),
        n_ratings=len(t),
        offset=offset,
        theta_scale=np.array([1.0, np.std(t), np.std(t)]),
    )


def _check_identified(sums: _Sums) -> None:
    """Refuse data that cannot separate the fixed effects, G and s² (``InsufficientData``).

    s² needs ratings beyond what the patients' own lines (Zᵢ) and the fixed effects span together:
    N − Σ rank(ZᵢᵀZᵢ) − rank of (t)₊ within patients ≥ 1, and a non-zero residual from that fit;
    otherwise the REML likelihood grows without bound as s² → 0. Columns 1 and t of X always lie in
    each patient's own span, so (t)₊ is the only column left once the patients' lines are taken out.
    """
    if np.linalg.matrix_rank(sums.xtx) < FIXED_EFFECTS:
        raise InsufficientData(
            "the ratings fall on fewer than 3 distinct times: the intercept, pre-slope and change "
            "in slope cannot all be estimated"
        )
    ztz = sums.ztz.transpose(2, 0, 1)
    ranks = np.linalg.matrix_rank(ztz)
    if not np.any(ranks == 2):
        raise InsufficientData(
            "no patient has ratings at two different times: the variation of slopes between "
            "patients cannot be estimated"
        )
    pinv, u, kink = np.linalg.pinv(ztz), sums.zty[:, 0].T, sums.ztx[:, 2].T
    kink_ss = sums.xtx[2, 2] - float(np.einsum("mi,mij,mj->", kink, pinv, kink))
    kink_y = sums.xty[2] - float(np.einsum("mi,mij,mj->", kink, pinv, u))
    bends = kink_ss > 1e-10 * sums.xtx[2, 2]
    if sums.n_ratings - np.sum(ranks) - int(bends) < 1:
        raise InsufficientData(
            "too few ratings: each patient's own line and the change in slope fit every rating "
            "exactly, so the rating noise cannot be estimated (patients need 3 or more ratings)"
        )
    residual = np.sum(sums.yty_each) - float(np.einsum("mi,mij,mj->", u, pinv, u))
    residual -= kink_y**2 / kink_ss if bends else 0.0
    if residual <= 1e-12 * max(sums.yty, 1.0):
        raise InsufficientData(
            "the ratings lie exactly on the patients' lines: the rating noise is zero and the "
            "model is degenerate"
        )


# ---------------------------------------------------------------- REML


@dataclass(frozen=True, slots=True)
class _Profile:
    """The REML criterion at one Λ and what its gradient and the estimates need."""

    factor: NDArray[np.float64]
    """Λ, with ΛΛᵀ = G/s²."""
    shrink: NDArray[np.float64]
    """Rᵢ = ΛMᵢ⁻¹Λᵀ per patient (2×2×m), so that Hᵢ⁻¹ = I − ZᵢRᵢZᵢᵀ."""
    a: NDArray[np.float64]
    beta: NDArray[np.float64]
    r2: float
    criterion: float
    """D = (N − p) log r² + Σ log|Mᵢ| + log|A|: −2 logL up to a constant."""


def _factor(theta: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.array([[theta[0], 0.0], [theta[1], theta[2]]])


def _times(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per-patient products of (i×2×m) and (2×k×m) stacks, or of a fixed (i×2×1) matrix."""
    return np.asarray(a[:, 0, None] * b[0] + a[:, 1, None] * b[1], dtype=np.float64)


def _inverse_2x2(m: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per-patient inverses and determinants of a (2×2×m) stack, in closed form."""
    det = m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]
    return np.array([[m[1, 1], -m[0, 1]], [-m[1, 0], m[0, 0]]]) / det, det


def _sum_products(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Σᵢ AᵢᵀBᵢ over patients, for (2×j×m) and (2×k×m) stacks."""
    return np.asarray(np.tensordot(a, b, axes=([0, 2], [0, 2])), dtype=np.float64)


def _profile(theta: NDArray[np.float64], sums: _Sums) -> _Profile:
    factor = _factor(theta)[..., None]
    m_inverse, m_det = _inverse_2x2(
        np.eye(2)[..., None] + _times(factor.transpose(1, 0, 2), _times(sums.ztz, factor))
    )
    shrink = _times(_times(factor, m_inverse), factor.transpose(1, 0, 2))
    shrunk_u = _times(shrink, sums.zty)
    a = sums.xtx - _sum_products(sums.ztx, _times(shrink, sums.ztx))
    c = sums.xty - _sum_products(sums.ztx, shrunk_u)[:, 0]
    d = sums.yty - float(np.sum(sums.zty * shrunk_u))
    beta = np.asarray(np.linalg.solve(a, c), dtype=np.float64)
    r2 = max(d - float(c @ beta), np.finfo(np.float64).tiny)
    df = sums.n_ratings - FIXED_EFFECTS
    criterion = df * math.log(r2) + float(np.sum(np.log(m_det))) + np.linalg.slogdet(a)[1]
    return _Profile(factor[..., 0], shrink, a, beta, r2, float(criterion))


def _residual_sums(profile: _Profile, sums: _Sums) -> NDArray[np.float64]:
    """Zᵢᵀ(yᵢ − Xᵢβ̂) per patient (2×1×m)."""
    return np.asarray(
        sums.zty - np.tensordot(profile.beta, sums.ztx, axes=([0], [1]))[:, None], dtype=np.float64
    )


def _gradient(profile: _Profile, sums: _Sums) -> NDArray[np.float64]:
    """dD/d(Λ11, Λ21, Λ22), from dD = tr(Γ dΨ) and dΨ = dΛ Λᵀ + Λ dΛᵀ.

    Γ = Σ [ZᵢᵀHᵢ⁻¹Zᵢ − QᵢA⁻¹Qᵢᵀ − (N − p)/r² · sᵢsᵢᵀ] with Qᵢ = ZᵢᵀHᵢ⁻¹Xᵢ and sᵢ = ZᵢᵀHᵢ⁻¹(yᵢ − Xᵢβ̂).
    """
    s, w = sums.ztz, sums.ztx
    sr = _times(s, profile.shrink)
    q = w - _times(sr, w)
    e = _residual_sums(profile, sums)
    resid = (e - _times(sr, e))[:, 0]
    df = sums.n_ratings - FIXED_EFFECTS
    q_a = np.tensordot(np.linalg.inv(profile.a), q, axes=([0], [1]))  # (3, 2, m): (QᵢA⁻¹)ᵀ
    gamma = (
        (s - _times(sr, s)).sum(-1)
        - np.tensordot(q_a, q, axes=([0, 2], [1, 2]))
        - (df / profile.r2) * (resid @ resid.T)
    )
    dd = 2.0 * gamma @ profile.factor
    return np.array([dd[0, 0], dd[1, 0], dd[1, 1]])


def _start(sums: _Sums) -> NDArray[np.float64]:
    """The best of a small grid of Λ, time in SDs: diag(intercept SD, slope SD × time SD)/s."""
    grid = [
        np.array([intercept, 0.0, slope]) for intercept in (0.5, 1.5, 4.5) for slope in (0.1, 0.5)
    ]
    return min(grid, key=lambda x: _profile(x / sums.theta_scale, sums).criterion)


def _optimise(sums: _Sums) -> tuple[NDArray[np.float64], bool, int]:
    """Λ minimising the REML criterion; whether its gradient vanished there; iterations.

    The search runs over Λ with time in SDs of the cohort's rating times, so that both columns have
    the same scale, and without bounds: a bound at a zero diagonal of Λ traps the search, since the
    gradient along that diagonal is zero there whatever the data. Flipping the sign of a column of Λ
    leaves ΛΛᵀ unchanged, so the diagonal is made non-negative afterwards.
    """
    n, scale = sums.n_ratings, sums.theta_scale

    def objective(x: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        profile = _profile(x / scale, sums)
        return profile.criterion / n, _gradient(profile, sums) / (n * scale)

    options = {"maxiter": MAX_ITERATIONS, "gtol": GRADIENT_TOLERANCE / 100}
    found = minimize(objective, _start(sums), jac=True, method="BFGS", options=options)
    x = np.asarray(found.x, dtype=np.float64)
    gradient = objective(x)[1]
    factor = _factor(x / scale) * np.where(np.diag(_factor(x)) < 0.0, -1.0, 1.0)
    theta = np.array([factor[0, 0], factor[1, 0], factor[1, 1]])
    return theta, bool(np.max(np.abs(gradient)) <= GRADIENT_TOLERANCE), int(found.nit)


# ---------------------------------------------------------------- result


def fit_mixed_model(
    patients: Sequence[PatientRatings], *, confidence: float = CONFIDENCE
) -> MixedModelFit:
    """Fit the piecewise-linear mixed model of ALSFRS-R by REML (see the module docstring).

    Patients with a single rating inform the intercept variance and the fixed effects; patients
    without a rating after the first implantation inform the pre-slope. A fit at the boundary (for
    example no detectable variation of slopes) is returned with ``boundary`` set, not refused.

    Raises
    ------
    InvalidInput
        Listing every problem, each naming the patient and field: fewer than 2 patients, a duplicate
        or empty key, no ratings, times and totals of different lengths, a time that is not finite,
        a total outside 0-48, no patient with 2 or more ratings, no rating before or none after the
        first implantation across the cohort.
    InsufficientData
        If the data cannot identify the model: fewer than 3 distinct times, no patient rated at two
        different times, no ratings beyond what the patients' own lines and the bend at month 0
        fit exactly, or ratings exactly on those lines (no rating noise).
    ValueError
        If ``confidence`` is not between 0 and 1.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    cohort = _cohort(patients)
    sums = _sums(cohort)
    _check_identified(sums)
    theta, converged, iterations = _optimise(sums)
    profile = _profile(theta, sums)
    df = sums.n_ratings - FIXED_EFFECTS
    sigma2 = profile.r2 / df
    covariance = np.asarray(sigma2 * np.linalg.inv(profile.a), dtype=np.float64)
    covariance.setflags(write=False)
    g = sigma2 * profile.factor @ profile.factor.T
    boundary = min(theta[0], theta[2] * sums.theta_scale[2]) <= BOUNDARY_TOLERANCE
    beta = profile.beta + np.array([sums.offset, 0.0, 0.0])
    intercept, pre, change, post = _estimates(beta, covariance, confidence)
    return MixedModelFit(
        intercept=intercept,
        pre_slope=pre,
        slope_change=change,
        post_slope=post,
        fixed_effects_covariance=covariance,
        random_effects_covariance=RandomEffectsCovariance(
            float(g[0, 0]), float(g[1, 1]), float(g[0, 1])
        ),
        residual_variance=sigma2,
        patients=_blups(profile, sums, cohort.keys),
        n_patients=len(cohort.keys),
        n_ratings=sums.n_ratings,
        reml_log_likelihood=-0.5 * (profile.criterion + df * (1.0 + math.log(2 * math.pi / df))),
        converged=converged,
        boundary=boundary,
        iterations=iterations,
        confidence=confidence,
        method=METHOD,
        caveats=_caveats(converged=converged, boundary=boundary),
    )


def _estimates(
    beta: NDArray[np.float64], covariance: NDArray[np.float64], confidence: float
) -> list[Estimate]:
    """Intercept, pre-slope, slope change and post-slope (β1 + β2), with Wald intervals."""
    z = float(norm.ppf(0.5 + confidence / 2))
    estimates = []
    for weights in ([1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 1.0]):
        w = np.array(weights)
        value, se = float(w @ beta), math.sqrt(float(w @ covariance @ w))
        estimates.append(Estimate(value, se, value - z * se, value + z * se))
    return estimates


def _blups(profile: _Profile, sums: _Sums, keys: tuple[str, ...]) -> tuple[PatientEffects, ...]:
    """b̂ᵢ = GZᵢᵀVᵢ⁻¹rᵢ = ΛMᵢ⁻¹ΛᵀZᵢᵀrᵢ, with Zᵢᵀrᵢ = Zᵢᵀyᵢ − ZᵢᵀXᵢβ̂."""
    blups = _times(profile.shrink, _residual_sums(profile, sums))[:, 0]
    counts = np.rint(sums.ztz[0, 0]).astype(int)
    return tuple(map(PatientEffects, keys, blups[0].tolist(), blups[1].tolist(), counts.tolist()))


def _caveats(*, converged: bool, boundary: bool) -> tuple[str, ...]:
    extra = []
    if boundary:
        extra.append(
            "The random-effects covariance is at its boundary (singular): the data show no "
            "detectable variation in intercepts or slopes between patients, or a perfect "
            "correlation; the fixed effects stand, the variance components are not reliable."
        )
    if not converged:
        extra.append(
            "The REML optimisation did not converge: the estimates are not reliable and must not "
            "be reported."
        )
    return (*BASE_CAVEATS, *extra)
