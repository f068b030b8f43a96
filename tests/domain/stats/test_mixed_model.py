"""The piecewise-linear mixed model of ALSFRS-R (domain/stats/mixed_model.py; clinical.md §7.5, §7.6).

Golden values come from three independent sources, never from the code under test:

- statsmodels' ``MixedLM`` (REML, random intercept and slope) on seeded simulated cohorts;
- a dense implementation of the REML definitions written out here (explicit Vᵢ = ZᵢGZᵢᵀ + s²I,
  GLS, BLUPs), evaluated at the fitted variance components;
- hand-worked cases whose answer follows from algebra stated in the test (ordinary least squares).
"""

from __future__ import annotations

import array
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from statsmodels.regression.mixed_linear_model import MixedLM
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from alscell.domain.stats import mixed_model
from alscell.domain.stats.mixed_model import PatientRatings, fit_mixed_model
from alscell.errors import InsufficientData, InvalidInput

BETA = (36.0, -1.0, 0.4)  # intercept at first implantation, pre-slope, change in slope
G = ((16.0, 0.4), (0.4, 0.25))  # intercept SD 4 points, slope SD 0.5 points/month, correlation 0.2
SIGMA = 1.5  # SD of a rating around the patient's line, points
SCHEDULE = (-6.0, -3.0, 0.0, 3.0, 6.0, 9.0, 12.0)  # months from the first implantation
PATIENTS = 120
Z95 = 1.959963984540054  # standard normal 97.5% quantile
Z90 = 1.6448536269514722  # standard normal 95% quantile


# ---------------------------------------------------------------- simulated cohorts


def _times(kind: str, rng: np.random.Generator) -> NDArray[np.float64]:
    schedule = np.array(SCHEDULE)
    if kind == "balanced":
        return schedule
    if kind == "dropouts":  # the schedule, stopped after a random visit (1 to all 7)
        return schedule[: rng.integers(1, len(schedule) + 1)]
    times = np.sort(rng.uniform(-8.0, 14.0, rng.integers(2, 10)))  # unbalanced, random visits
    if kind == "single ratings" and rng.random() < 0.25:
        return times[rng.integers(len(times)) :][:1]
    return times


def simulate(kind: str, seed: int, *, g: Any = G, patients: int = PATIENTS) -> list[PatientRatings]:
    """Seeded ALSFRS-R ratings from the model itself, rounded and kept in 0-48 like real totals."""
    rng = np.random.default_rng(seed)
    effects = rng.multivariate_normal([0.0, 0.0], np.array(g), size=patients)
    records = []
    for i, (b0, b1) in enumerate(effects):
        t = _times(kind, rng)
        mean = BETA[0] + BETA[1] * t + BETA[2] * np.maximum(t, 0.0) + b0 + b1 * t
        totals = np.clip(np.rint(mean + rng.normal(0.0, SIGMA, len(t))), 0, 48)
        records.append(PatientRatings(f"P{i:03d}", tuple(t), tuple(totals)))
    return records


def stacked(records: list[PatientRatings]) -> tuple[NDArray[Any], ...]:
    t = np.concatenate([np.asarray(r.months, dtype=float) for r in records])
    y = np.concatenate([np.asarray(r.totals, dtype=float) for r in records])
    groups = np.repeat(np.arange(len(records)), [len(r.months) for r in records])
    x = np.column_stack([np.ones_like(t), t, np.maximum(t, 0.0)])
    return t, y, x, groups


@dataclass(frozen=True)
class Reference:
    fixed: NDArray[np.float64]
    se: NDArray[np.float64]
    g: NDArray[np.float64]
    s2: float
    llf: float
    blups: NDArray[np.float64]
    converged: bool


def statsmodels_fit(records: list[PatientRatings]) -> Reference:
    """statsmodels' REML fit, with time in SDs and the results converted back to months.

    With months as they are, statsmodels' default start (G/s² = I) is far from the slope variance and
    its optimiser often stops early. Time t = c·t' is an exact reparameterisation: slopes and their
    SEs scale by 1/c, G by D⁻¹G'D⁻¹ with D = diag(1, c), s² and V are unchanged, and with X' = XD₃⁻¹
    (D₃ = diag(1, c, c)) log|X'ᵀV⁻¹X'| drops by 2·log|D₃| = 4·log c, so the REML log-likelihood rises
    by 2·log c, which is subtracted here.
    """
    t, y, x, groups = stacked(records)
    c = float(np.std(t))
    d = np.array([1.0, c, c])
    result = MixedLM(y, x / d, groups=groups, exog_re=x[:, :2] / d[:2]).fit(
        reml=True, method=["lbfgs"]
    )
    blups = np.array([np.asarray(result.random_effects[i]) for i in range(len(records))])
    return Reference(
        fixed=np.asarray(result.fe_params) / d,
        se=np.asarray(result.bse_fe) / d,
        g=np.asarray(result.cov_re) / np.outer(d[:2], d[:2]),
        s2=float(result.scale),
        llf=float(result.llf) - 2 * math.log(c),
        blups=blups / d[:2],
        converged=bool(result.converged),
    )


def dense_reml(records: list[PatientRatings], g: NDArray[np.float64], s2: float) -> dict[str, Any]:
    """The REML definitions with explicit matrices (Harville 1977; Laird and Ware 1982).

    logL = −½[(N − p) log 2π + log|V| + log|XᵀV⁻¹X| + rᵀV⁻¹r] with r = y − Xβ̂ and β̂ the GLS estimate;
    cov(β̂) = (XᵀV⁻¹X)⁻¹; BLUPs b̂ᵢ = GZᵢᵀVᵢ⁻¹rᵢ.
    """
    blocks = []
    for record in records:
        t = np.asarray(record.months, dtype=float)
        x = np.column_stack([np.ones_like(t), t, np.maximum(t, 0.0)])
        z = x[:, :2]
        v_inverse = np.linalg.inv(z @ g @ z.T + s2 * np.eye(len(t)))
        blocks.append((x, z, np.asarray(record.totals, dtype=float), v_inverse))
    xtvx = sum(x.T @ vi @ x for x, _, _, vi in blocks)
    beta = np.linalg.solve(xtvx, sum(x.T @ vi @ y for x, _, y, vi in blocks))
    residuals = [(y - x @ beta, z, vi) for x, z, y, vi in blocks]
    n = sum(len(y) for _, _, y, _ in blocks)
    llf = -0.5 * (
        (n - 3) * math.log(2 * math.pi)
        - sum(np.linalg.slogdet(vi)[1] for *_, vi in blocks)
        + np.linalg.slogdet(xtvx)[1]
        + sum(r @ vi @ r for r, _, vi in residuals)
    )
    blups = np.array([g @ z.T @ vi @ r for r, z, vi in residuals])
    return {"beta": beta, "cov": np.linalg.inv(xtvx), "llf": llf, "blups": blups}


def g_matrix(fit: mixed_model.MixedModelFit) -> NDArray[np.float64]:
    return fit.random_effects_covariance.matrix


def standard_errors(fit: mixed_model.MixedModelFit) -> NDArray[np.float64]:
    return np.array([e.standard_error for e in (fit.intercept, fit.pre_slope, fit.slope_change)])


def blups(fit: mixed_model.MixedModelFit) -> NDArray[np.float64]:
    return np.array([[p.intercept, p.slope] for p in fit.patients])


# ---------------------------------------------------------------- against statsmodels (§7.6)

SCENARIOS = ("balanced", "unbalanced", "dropouts", "single ratings")


@pytest.fixture(scope="module", params=SCENARIOS)
def pair(request: pytest.FixtureRequest) -> tuple[str, list[PatientRatings], Any, Reference]:
    kind = request.param
    records = simulate(kind, seed=SCENARIOS.index(kind) + 7)
    return kind, records, fit_mixed_model(records), statsmodels_fit(records)


def test_cohorts_cover_the_hard_cases(pair):
    """The simulated cohorts hold what the model must handle (clinical.md §7.6)."""
    kind, records, fit, _ = pair
    counts = [len(r.months) for r in records]
    assert fit.n_patients == len(records)
    assert fit.n_ratings == sum(counts)
    assert [p.n_ratings for p in fit.patients] == counts
    schedules = {tuple(r.months) for r in records}
    assert (len(schedules) == 1) == (kind == "balanced")
    if kind in ("dropouts", "single ratings"):
        assert 1 in counts, "some patients have a single rating"
        assert any(max(r.months) <= 0 for r in records), "some have no post-treatment rating"


def test_fixed_effects_match_statsmodels(pair):
    """β̂ within 1e-3 points (or points/month) of statsmodels' REML fit (clinical.md §7.6)."""
    *_, fit, reference = pair
    assert fit.converged
    assert reference.converged
    np.testing.assert_allclose(fit.fixed_effects, reference.fixed, rtol=0, atol=1e-3)
    assert fit.post_slope.value == pytest.approx(reference.fixed[1] + reference.fixed[2], abs=1e-3)


def test_variance_components_match_statsmodels(pair):
    """G and s² within 1 % of statsmodels' REML fit; the REML log-likelihood agrees too (§7.6)."""
    *_, fit, reference = pair
    np.testing.assert_allclose(g_matrix(fit), reference.g, rtol=0.01)
    assert fit.residual_variance == pytest.approx(reference.s2, rel=0.01)
    # Both maximise the same function: ours is at least as high, and the two agree closely.
    assert fit.reml_log_likelihood >= reference.llf - 1e-6
    assert fit.reml_log_likelihood == pytest.approx(reference.llf, abs=1e-4)
    assert not fit.boundary


def test_standard_errors_and_blups_match_statsmodels(pair):
    """SEs within 1 % and BLUPs within 0.01 of statsmodels (clinical.md §7.6).

    statsmodels takes SEs from the inverse Hessian over all parameters (fixed effects and variance
    components), the model from (Σ XᵢᵀVᵢ⁻¹Xᵢ)⁻¹ as specified; at the optimum they differ by a fraction
    of a percent. The exact definition is checked against the dense computation below.
    """
    *_, fit, reference = pair
    np.testing.assert_allclose(standard_errors(fit), reference.se, rtol=0.01)
    np.testing.assert_allclose(blups(fit), reference.blups, rtol=0, atol=0.01)


# ---------------------------------------------------------------- against the definitions


@pytest.fixture(scope="module")
def small() -> tuple[list[PatientRatings], Any]:
    records = simulate("single ratings", seed=3, patients=40)
    return records, fit_mixed_model(records)


def test_estimates_follow_the_dense_definitions(small):
    """At the fitted G and s², β̂, cov(β̂), BLUPs and logL equal the dense REML formulas (§7.6)."""
    records, fit = small
    dense = dense_reml(records, g_matrix(fit), fit.residual_variance)
    np.testing.assert_allclose(fit.fixed_effects, dense["beta"], rtol=1e-9)
    np.testing.assert_allclose(fit.fixed_effects_covariance, dense["cov"], rtol=1e-8)
    np.testing.assert_allclose(blups(fit), dense["blups"], rtol=1e-7, atol=1e-9)
    assert fit.reml_log_likelihood == pytest.approx(dense["llf"], rel=1e-10)


@pytest.mark.parametrize(
    "move",
    [
        lambda g, s2, d: (g * (1 + d), s2),
        lambda g, s2, d: (g * (1 - d), s2),
        lambda g, s2, d: (g, s2 * (1 + d)),
        lambda g, s2, d: (g, s2 * (1 - d)),
        lambda g, s2, d: (g + d * np.diag([g[0, 0], 0.0]), s2),
        lambda g, s2, d: (g + d * np.diag([0.0, g[1, 1]]), s2),
        lambda g, s2, d: (g + d * np.array([[0.0, 1.0], [1.0, 0.0]]) * g[0, 1], s2),
    ],
)
def test_fit_maximises_the_dense_reml_likelihood(small, move):
    """Moving G or s² 2 % away from the fit lowers the dense REML log-likelihood (§7.6)."""
    records, fit = small
    g, s2 = move(g_matrix(fit), fit.residual_variance, 0.02)
    assert dense_reml(records, g, s2)["llf"] < fit.reml_log_likelihood


def test_balanced_design_gives_ordinary_least_squares():
    """With every patient rated at the same times, β̂ is the OLS estimate whatever G is (§7.5).

    Vᵢ = ZᵢGZᵢᵀ + s²I maps the columns of Xᵢ = X₀ into themselves (Z₀'s columns are X₀'s), so GLS
    equals OLS (Zyskind's condition). The SEs differ: OLS ignores the correlation within patients.
    """
    records = simulate("balanced", seed=11)
    _, y, x, _ = stacked(records)
    ols = np.linalg.lstsq(x, y, rcond=None)[0]
    fit = fit_mixed_model(records)
    np.testing.assert_allclose(fit.fixed_effects, ols, rtol=0, atol=1e-9)


def no_signal_cohort() -> list[PatientRatings]:
    """Four patients rated at −2, −1, 0, 1, 2 months: the line 40 − t + 0.5·(t)₊ plus a·e₁ + c·e₂.

    e₁ = (1, −2, 1, 0, 0) and e₂ = (0, 0, 1, −2, 1) are orthogonal to 1, t and (t)₊, so each patient's
    deviations have no intercept or slope of their own: there is no random-effect signal at all.
    """
    times = (-2.0, -1.0, 0.0, 1.0, 2.0)
    line = (42.0, 41.0, 40.0, 39.5, 39.0)
    e1, e2 = (1, -2, 1, 0, 0), (0, 0, 1, -2, 1)
    weights = ((1, 0), (0, 1), (-1, 1), (2, -1))
    return [
        PatientRatings(
            f"P{i}", times, tuple(m + a * u + c * v for m, u, v in zip(line, e1, e2, strict=True))
        )
        for i, (a, c) in enumerate(weights)
    ]


def test_no_random_effect_signal_gives_a_boundary_fit_equal_to_ols():
    """Worked by hand: β̂ = (40, −1, 0.5), G = 0, s² = 48/17 and OLS standard errors (§7.5, §7.6).

    The deviations are orthogonal to every column of X and of each Zᵢ, so for any G the GLS estimate
    is the line itself and r² = Σ‖a·e₁ + c·e₂‖² = Σ (6a² + 6c² + 2ac) = 6 + 6 + 10 + 26 = 48. The design
    is balanced, so the REML criterion is a constant plus (m − 1)·log|I + ΨZ₀ᵀZ₀|, smallest at Ψ = 0:
    the fit is on the boundary, s² = 48/(20 − 3) and cov(β̂) = s²(XᵀX)⁻¹ with XᵀX = 4·X₀ᵀX₀,
    X₀ᵀX₀ = [[5, 0, 3], [0, 10, 5], [3, 5, 5]] (determinant 35).
    """
    fit = fit_mixed_model(no_signal_cohort())
    s2 = 48 / 17
    xtx = 4 * np.array([[5.0, 0.0, 3.0], [0.0, 10.0, 5.0], [3.0, 5.0, 5.0]])
    assert fit.converged
    assert fit.boundary
    np.testing.assert_allclose(fit.fixed_effects, [40.0, -1.0, 0.5], rtol=0, atol=1e-9)
    np.testing.assert_allclose(g_matrix(fit), np.zeros((2, 2)), rtol=0, atol=1e-8)
    assert fit.residual_variance == pytest.approx(s2, rel=1e-12)
    np.testing.assert_allclose(
        standard_errors(fit), np.sqrt(np.diag(s2 * np.linalg.inv(xtx))), rtol=1e-6
    )
    expected_llf = -0.5 * (17 * (1 + math.log(2 * math.pi * s2)) + math.log(64 * 35))
    assert fit.reml_log_likelihood == pytest.approx(expected_llf, abs=1e-6)
    assert any("boundary" in caveat for caveat in fit.caveats)


def test_zero_slope_variance_gives_a_converged_boundary_fit():
    """Simulated without slope variation (single ratings, random visits): the REML optimum lies on
    the edge of the covariance cone, and the fit gets there, flags it and does not crash (§7.6).

    statsmodels' optimiser stalls at this edge and says so with ConvergenceWarnings ("optimization
    failed", "MLE may be on the boundary"); those, and only those, are silenced, and the comparison
    is loose: our REML log-likelihood is at least as high and β̂ is close. Local optimality is
    checked against the dense definition: moving G into the cone or s² either way lowers it.
    """
    records = simulate("single ratings", seed=0, g=((16.0, 0.0), (0.0, 0.0)))
    fit = fit_mixed_model(records)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = statsmodels_fit(records)
    g = g_matrix(fit)
    assert fit.converged
    assert fit.boundary
    assert any("boundary" in caveat for caveat in fit.caveats)
    assert fit.random_effects_covariance.slope_variance < 1e-3  # simulated 0; 0.25 in the others
    assert np.linalg.eigvalsh(g).min() >= -1e-12
    assert fit.reml_log_likelihood >= reference.llf - 1e-6
    np.testing.assert_allclose(fit.fixed_effects, reference.fixed, rtol=0, atol=0.01)
    s2 = fit.residual_variance
    assert dense_reml(records, g, s2)["llf"] == pytest.approx(fit.reml_log_likelihood, rel=1e-10)
    for g_moved, s2_moved in [
        (g + np.diag([0.0, 1e-3]), s2),  # slope SD 0.03 points/month
        (g + np.diag([0.02 * g[0, 0], 0.0]), s2),
        (g * 0.98, s2),
        (g, s2 * 1.02),
        (g, s2 * 0.98),
    ]:
        assert dense_reml(records, g_moved, s2_moved)["llf"] < fit.reml_log_likelihood


# ---------------------------------------------------------------- results


def test_trajectories_are_fixed_plus_random_parts(small):
    """A patient's prediction is β0 + β1·t + β2·(t)₊ + b̂0 + b̂1·t (clinical.md §7.6)."""
    records, fit = small
    months = np.array([-6.0, -1.5, 0.0, 2.0, 12.0])
    b0, b1, b2 = fit.fixed_effects
    cohort = b0 + b1 * months + b2 * np.maximum(months, 0.0)
    np.testing.assert_allclose(fit.predict_cohort(months), cohort, rtol=1e-12)
    rows = fit.trajectories(months)
    assert rows.shape == (len(records), len(months))
    for row, record in zip(rows, records, strict=True):
        effects = fit.effects_of(record.patient)
        expected = cohort + effects.intercept + effects.slope * months
        np.testing.assert_allclose(fit.predict(record.patient, months), expected, rtol=1e-12)
        np.testing.assert_allclose(row, expected, rtol=1e-12)


def test_blups_sum_to_zero_and_follow_input_order(small):
    """The BLUPs of all patients sum to zero, exactly (clinical.md §7.6).

    Zᵢ's columns (1, t) are columns of Xᵢ, so the GLS normal equations Σ XᵢᵀVᵢ⁻¹rᵢ = 0 give
    Σ ZᵢᵀVᵢ⁻¹rᵢ = 0 and Σ b̂ᵢ = G·Σ ZᵢᵀVᵢ⁻¹rᵢ = 0.
    """
    records, fit = small
    assert [p.patient for p in fit.patients] == [r.patient for r in records]
    np.testing.assert_allclose(blups(fit).sum(axis=0), [0.0, 0.0], rtol=0, atol=1e-8)
    with pytest.raises(KeyError):
        fit.effects_of("nobody")


def test_wald_intervals_and_post_slope(small):
    """95 % Wald intervals with the normal quantile; post-slope = β1 + β2 with its own SE (§7.5)."""
    records, fit = small
    cov = fit.fixed_effects_covariance
    assert fit.post_slope.value == pytest.approx(fit.pre_slope.value + fit.slope_change.value)
    post_se = math.sqrt(cov[1, 1] + cov[2, 2] + 2 * cov[1, 2])
    assert fit.post_slope.standard_error == pytest.approx(post_se, rel=1e-12)
    np.testing.assert_allclose(standard_errors(fit), np.sqrt(np.diag(cov)), rtol=1e-12)
    for estimate in (fit.intercept, fit.pre_slope, fit.slope_change, fit.post_slope):
        half = Z95 * estimate.standard_error
        assert (estimate.low, estimate.high) == pytest.approx(
            (estimate.value - half, estimate.value + half), rel=1e-12
        )
    narrower = fit_mixed_model(records, confidence=0.90).slope_change
    assert narrower.high - narrower.value == pytest.approx(Z90 * narrower.standard_error)
    assert fit.confidence == 0.95


def test_result_states_method_and_caveats(small):
    """The result names its method and carries the §7.5 and §7.6 caveats, never an efficacy claim."""
    _, fit = small
    assert "REML" in fit.method
    text = " ".join(fit.caveats)
    assert "not evidence" in text
    assert "informative" in text
    assert "Wald" in text
    assert "normal quantile" in text
    assert not fit.boundary
    assert fit.converged
    assert fit.iterations > 0


def test_non_convergence_is_reported(monkeypatch):
    """An optimiser stopped early gives converged = False and a caveat, not a silent result."""
    monkeypatch.setattr(mixed_model, "MAX_ITERATIONS", 1)
    fit = fit_mixed_model(simulate("unbalanced", seed=5, patients=30))
    assert not fit.converged
    assert "did not converge" in fit.caveats[-1]


# ---------------------------------------------------------------- validation


def locations(error: InvalidInput) -> list[str]:
    return [problem.location for problem in error.problems]


A = PatientRatings("A", (-3.0, 0.0, 3.0), (40.0, 39.0, 37.0))
B = PatientRatings("B", (-1.0, 2.0), (30.0, 28.0))


@pytest.mark.parametrize(
    ("records", "location", "words"),
    [
        ([A], "patients", "at least 2 patients"),
        ([A, PatientRatings("A", (1.0,), (30.0,))], "patients[1] ('A').patient", "duplicate"),
        ([A, PatientRatings("", (1.0,), (30.0,))], "patients[1].patient", "non-empty"),
        ([A, PatientRatings("B", (1.0, 2.0), (30.0,))], "patients[1] ('B').totals", "one total"),
        ([A, PatientRatings("B", (), ())], "patients[1] ('B').months", "at least one rating"),
        (
            [A, PatientRatings("B", (1.0, math.nan), (30.0, 29.0))],
            "patients[1] ('B').months[1]",
            "finite",
        ),
        (
            [A, PatientRatings("B", (1.0, math.inf), (30.0, 29.0))],
            "patients[1] ('B').months[1]",
            "finite",
        ),
        ([A, PatientRatings("B", (1.0,), (49.0,))], "patients[1] ('B').totals[0]", "0-48"),
        ([A, PatientRatings("B", (1.0,), (-1.0,))], "patients[1] ('B').totals[0]", "0-48"),
        ([A, PatientRatings("B", (1.0,), (math.nan,))], "patients[1] ('B').totals[0]", "0-48"),
        ([A, PatientRatings("B", (1.0,), ("x",))], "patients[1] ('B').totals", "numbers"),  # type: ignore[arg-type]
        ([A, PatientRatings("B", ((1.0, 2.0),), (30.0,))], "patients[1] ('B').months", "flat"),  # type: ignore[arg-type]
        (
            [PatientRatings("A", (-1.0,), (40.0,)), PatientRatings("B", (1.0,), (30.0,))],
            "patients",
            "2 or more ratings",
        ),
        (
            [PatientRatings("A", (-2.0, 0.0), (40.0, 39.0)), PatientRatings("B", (-1.0,), (30.0,))],
            "patients.months",
            "after",
        ),
        (
            [PatientRatings("A", (0.0, 3.0), (40.0, 39.0)), PatientRatings("B", (1.0,), (30.0,))],
            "patients.months",
            "before",
        ),
    ],
)
def test_invalid_input_names_the_place_and_rule(records, location, words):
    """Each rule of the input is refused with InvalidInput naming the patient and field (§7.6)."""
    with pytest.raises(InvalidInput) as caught:
        fit_mixed_model(records)
    problem = next(p for p in caught.value.problems if p.location == location)
    assert words in problem.message


@pytest.mark.parametrize(
    ("months", "totals"),
    [
        ("123", (30.0, 29.0, 28.0)),  # text is not a sequence of times, even if it iterates as one
        ({1.0: "x", 2.0: "y"}, (30.0, 29.0)),  # nor is a mapping
    ],
)
def test_times_must_be_a_real_sequence(months, totals):
    """Text or a mapping where times belong is refused, not read character by character (§7.6)."""
    with pytest.raises(InvalidInput) as caught:
        fit_mixed_model([A, PatientRatings("B", months, totals)])
    assert any(p.location.startswith("patients[1] ('B')") for p in caught.value.problems)


def test_any_sequence_type_gives_the_same_fit(small):
    """Times and totals given as arrays of another kind (here array.array) fit exactly as tuples do."""
    records, fit = small
    as_arrays = [
        PatientRatings(r.patient, array.array("d", r.months), array.array("d", r.totals))
        for r in records
    ]

    again = fit_mixed_model(as_arrays)

    np.testing.assert_array_equal(again.fixed_effects, fit.fixed_effects)
    assert again.patients == fit.patients
    assert again.reml_log_likelihood == fit.reml_log_likelihood


def test_every_problem_is_listed_at_once():
    """Every problem with every patient is listed in one InvalidInput (clinical.md §7.6)."""
    records = [
        PatientRatings("A", (math.nan, 1.0), (50.0, 30.0)),
        PatientRatings("A", (1.0,), (30.0,)),
        PatientRatings("C", (1.0, 2.0), (30.0,)),
    ]
    with pytest.raises(InvalidInput) as caught:
        fit_mixed_model(records)
    assert set(locations(caught.value)) == {
        "patients[0] ('A').months[0]",
        "patients[0] ('A').totals[0]",
        "patients[1] ('A').patient",
        "patients[2] ('C').totals",
    }
    assert "invalid mixed-model ratings (4 problems)" in str(caught.value)


def test_no_rating_before_or_after_the_implantation():
    """Without ratings on both sides of month 0 the change in slope is not estimable (§7.5)."""
    records = [PatientRatings("A", (0.0, 0.0), (40.0, 39.0)), PatientRatings("B", (0.0,), (30.0,))]
    with pytest.raises(InvalidInput) as caught:
        fit_mixed_model(records)
    messages = [p.message for p in caught.value.problems]
    assert any("before" in m for m in messages)
    assert any("after" in m for m in messages)


@pytest.mark.parametrize(
    ("records", "words"),
    [
        # Times −1 and 1 only: a line through two times cannot also bend at 0.
        (
            [
                PatientRatings("A", (-1.0, 1.0, 1.0), (40.0, 38.0, 37.0)),
                PatientRatings("B", (-1.0, 1.0), (30.0, 29.0)),
            ],
            "3 distinct times",
        ),
        # A is rated twice on one day; B and C once: no patient has a slope of their own.
        (
            [
                PatientRatings("A", (-1.0, -1.0), (40.0, 39.0)),
                PatientRatings("B", (1.0,), (30.0,)),
                PatientRatings("C", (2.0,), (31.0,)),
            ],
            "two different times",
        ),
        # Two ratings each: every patient's line fits their ratings exactly.
        (
            [
                PatientRatings("A", (-2.0, 1.0), (40.0, 38.0)),
                PatientRatings("B", (-1.0, 2.0), (30.0, 27.0)),
                PatientRatings("C", (0.0, 3.0), (35.0, 36.0)),
            ],
            "too few ratings",
        ),
        # Two patients, five ratings: the two lines and the bend at month 0 fit all five exactly.
        (
            [
                PatientRatings("A", (-2.0, 1.0, 3.0), (36.0, 35.0, 33.0)),
                PatientRatings("B", (0.0, 2.0), (35.0, 34.0)),
            ],
            "too few ratings",
        ),
        # Three or more ratings, each patient's exactly on a line: no rating noise.
        (
            [
                PatientRatings("A", (-2.0, -1.0, 0.0, 1.0), (42.0, 41.0, 40.0, 39.0)),
                PatientRatings("B", (-1.0, 1.0, 2.0), (32.0, 28.0, 26.0)),
            ],
            "exactly on the patients' lines",
        ),
    ],
)
def test_unidentifiable_data_raise_insufficient_data(records, words):
    """Data that cannot separate β, G and s² are refused, never fitted to nonsense (§7.6)."""
    with pytest.raises(InsufficientData, match=words):
        fit_mixed_model(records)


@pytest.mark.parametrize("confidence", [0.0, 1.0, 1.5])
def test_confidence_must_be_a_probability(confidence):
    """A confidence level outside (0, 1) is a programming error: ValueError."""
    with pytest.raises(ValueError, match="confidence"):
        fit_mixed_model([A, B], confidence=confidence)
