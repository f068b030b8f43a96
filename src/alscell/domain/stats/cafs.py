"""CAFS: the Combined Assessment of Function and Survival (Berry 2013; clinical.md §7.1).

Every patient is compared with every other patient of the pooled set (program and comparator) on
survival and ALSFRS-R change at one analysis horizon H, months from baseline (the analysis plan's time
point). At H each patient has exactly one of three outcomes:

- **died**: death, tracheostomy or permanent ventilation at month d, 0 ≤ d ≤ H;
- **rated**: alive at H with an ALSFRS-R change from baseline c (negative is decline);
- **excluded**: alive at H without a change (a dropout or a missed rating).

The pairwise score of patient i against patient j (a Finkelstein-Schoenfeld style rule; the rule is
**UNVERIFIED in detail**, clinical.md §7.1 and §13 item 4)::

    both died            later death +1, earlier −1, same month 0
    one died, one rated  the survivor +1, the decedent −1
    both rated           larger change (smaller decline) +1, the other −1, equal changes 0

A patient's CAFS score is the sum of its pairwise scores against all *other* ranked patients. The
scores are ranked (average ranks for ties; a higher rank is a better outcome) and the program is
compared with the comparator by the Wilcoxon-Mann-Whitney test, two-sided (clinical.md §7.1).

**Patients alive without a change are excluded** from the ranking: they get no score, take no part
in anyone else's score, are never imputed, and are counted and reported per group. This is the simple
rule; it is unbiased only if missing a rating is unrelated to the outcome. ALS/SURV (Goutman 2019;
clinical.md §7.1) instead ranks a withdrawal against the patients still in the study at the
withdrawal time; that needs each withdrawal's time and last change, which the analysis does not carry.

Fast scores, O(n log n). Because the horizon is common, the pairwise rule is a total preorder on the
key (0, d) for a death and (1, c) for a survivor, compared lexicographically: every comparison is
+1, −1 or 0 as i's key is above, below or equal to j's. So::

    score(i) = #{j : key(j) < key(i)} − #{j : key(j) > key(i)}

The key is encoded as one integer per patient, the dense rank of the death month among deaths or
the dense rank of the change among survivors offset by the number of distinct death months, so that
no arithmetic on floats can merge or split a tie. The dense ranks cost one sort (``numpy.unique``);
counting the patients at each key and a cumulative sum then give every score in linear time.
(Sorting the keys again and binary-searching each one gives the same counts, but several times
slower at a million patients, because the searches jump around memory.)

The score is strictly increasing in the key, so the rank test on the scores is the rank test on the
outcomes, and U / (n₁·n₂) is the probability that a random program patient has a better outcome
than a random comparator patient (ties count half). :func:`pairwise_scores` is the literal O(n²)
definition, kept as the reference the fast path is tested against.

A comparison with an external or simulated cohort is descriptive: the patients were not randomised,
so a difference in CAFS is not evidence of efficacy.

References
----------
Berry JD et al. The Combined Assessment of Function and Survival (CAFS): a new endpoint for ALS
clinical trials. *ALS FTD* 2013;14:162-168. Goutman SA et al. *ALS FTD* 2019;20:576-583 (ALS/SURV).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final, TypeAlias

import numpy as np
from numpy.typing import NDArray
from scipy.stats import mannwhitneyu, rankdata

from alscell.domain.alsfrs import MAX_TOTAL
from alscell.domain.stats import natural_history as nh
from alscell.errors import InsufficientData, InvalidInput, Problem

__all__ = [
    "EXACT_MAX_PAIRS",
    "BaselineDraw",
    "Baselines",
    "CafsComparison",
    "CafsGroup",
    "Outcomes",
    "compare_cohorts",
    "pairwise_scores",
    "resampled_baselines",
    "scores",
    "simulate_comparator",
]

EXACT_MAX_PAIRS: Final = 10_000
"""The exact Mann-Whitney distribution is used only without ties and for at most this many program ×
comparator pairs; its cost grows with the pairs (minutes for 5 × 100,000), the normal approximation's
does not."""
SHOWN_INDICES: Final = 5
"""How many offending patients an input problem names."""

Floats: TypeAlias = nh.Floats


def _floats(values: Floats, name: str) -> NDArray[np.float64]:
    array = np.array(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    array.setflags(write=False)
    return array


def _problem(name: str, bad: NDArray[np.bool_], rule: str) -> Iterable[Problem]:
    if bad.any():
        where = np.flatnonzero(bad)
        shown = ", ".join(str(index) for index in where[:SHOWN_INDICES])
        more = f" and {len(where) - SHOWN_INDICES} more" if len(where) > SHOWN_INDICES else ""
        yield Problem(f"{name}[{shown}{more}]", rule)


@dataclass(frozen=True, slots=True, eq=False)
class Outcomes:
    """The CAFS outcomes of a cohort at one horizon, as parallel arrays with one entry per patient.

    ``death_months`` holds the month of death, tracheostomy or permanent ventilation after baseline
    (NaN for a patient alive at the horizon); ``changes`` the ALSFRS-R change from baseline at the
    horizon (NaN for a decedent and for a patient alive without a rating, who is excluded).

    Raises
    ------
    InvalidInput
        A horizon that is not a positive number of months, a death outside 0..H, a change outside
        −48..48, or a patient with both a death and a change; each problem names the patients.
    ValueError
        Arrays that are not one-dimensional or differ in length (a programming error).
    """

    horizon_months: float
    death_months: NDArray[np.float64]
    changes: NDArray[np.float64]

    def __post_init__(self) -> None:
        deaths = _floats(self.death_months, "death_months")
        changes = _floats(self.changes, "changes")
        if deaths.shape != changes.shape:
            raise ValueError(f"death_months {deaths.shape} and changes {changes.shape} differ")
        object.__setattr__(self, "death_months", deaths)
        object.__setattr__(self, "changes", changes)
        problems = list(self._problems())
        if problems:
            raise InvalidInput(problems, subject="CAFS outcomes")

    def _problems(self) -> Iterable[Problem]:
        horizon = self.horizon_months
        if not (math.isfinite(horizon) and horizon > 0):
            yield Problem("horizon_months", f"must be a number of months > 0, got {horizon}")
            return
        deaths, changes = self.death_months, self.changes
        outside = ~np.isnan(deaths) & ~((deaths >= 0) & (deaths <= horizon))  # NaN: no death
        too_big = ~np.isnan(changes) & ~(np.abs(changes) <= MAX_TOTAL)  # catches ±inf too
        yield from _problem("death_months", outside, f"must be within 0..{horizon} months")
        yield from _problem("changes", too_big, f"must be within -{MAX_TOTAL}..{MAX_TOTAL}")
        both = ~np.isnan(deaths) & ~np.isnan(changes)
        yield from _problem("changes", both, "a patient who died has no change at the horizon")

    @property
    def died(self) -> NDArray[np.bool_]:
        """Died (death, tracheostomy or permanent ventilation) on or before the horizon."""
        return ~np.isnan(self.death_months)

    @property
    def ranked(self) -> NDArray[np.bool_]:
        """Takes part in the ranking: died, or alive with a change."""
        return self.died | ~np.isnan(self.changes)

    @property
    def n(self) -> int:
        """Patients, excluded ones included."""
        return len(self.death_months)


# ---------------------------------------------------------------- scores


def _ordinal_keys(
    death_months: NDArray[np.float64], changes: NDArray[np.float64]
) -> NDArray[np.intp]:
    """One integer per ranked patient whose order is the pairwise rule's (see the module docstring)."""
    died = ~np.isnan(death_months)
    keys = np.empty(len(death_months), dtype=np.intp)
    death_levels, keys[died] = np.unique(death_months[died], return_inverse=True)
    keys[~died] = len(death_levels) + np.unique(changes[~died], return_inverse=True)[1]
    return keys


def scores(outcomes: Outcomes) -> NDArray[np.float64]:
    """Every patient's CAFS score against the other ranked patients, in O(n log n).

    Returns
    -------
    numpy.ndarray
        One score per patient, in the order of ``outcomes``: an integer value, or NaN for a patient
        excluded from the ranking (alive at the horizon without a change).
    """
    ranked = outcomes.ranked
    keys = _ordinal_keys(outcomes.death_months[ranked], outcomes.changes[ranked])
    at_level = np.bincount(keys)  # keys are dense: every level 0..max has a patient
    up_to_level = np.cumsum(at_level)
    worse = up_to_level - at_level
    better = len(keys) - up_to_level
    result = np.full(outcomes.n, np.nan)
    result[ranked] = (worse - better)[keys]
    return result


def _pair_score(death_i: float, change_i: float, death_j: float, change_j: float) -> int:
    """The pairwise rule of clinical.md §7.1 for i against j, both ranked."""
    i_died, j_died = not math.isnan(death_i), not math.isnan(death_j)
    if i_died and j_died:
        return (death_i > death_j) - (death_i < death_j)
    if i_died:
        return -1
    if j_died:
        return 1
    return (change_i > change_j) - (change_i < change_j)


def pairwise_scores(outcomes: Outcomes) -> NDArray[np.float64]:
    """CAFS scores by the literal definition: each ranked patient against every other, O(n²).

    The reference :func:`scores` is tested against; too slow for large cohorts.
    """
    deaths, changes = outcomes.death_months.tolist(), outcomes.changes.tolist()
    ranked = np.flatnonzero(outcomes.ranked).tolist()
    result = np.full(outcomes.n, np.nan)
    for i in ranked:
        result[i] = sum(
            _pair_score(deaths[i], changes[i], deaths[j], changes[j]) for j in ranked if j != i
        )
    return result


# ---------------------------------------------------------------- rank test


@dataclass(frozen=True, slots=True)
class CafsGroup:
    """One group of a CAFS comparison."""

    n: int
    """Patients ranked (died, or alive with a change)."""
    excluded: int
    """Patients alive at the horizon without a change: not ranked, never imputed."""
    deaths: int
    """Ranked patients who died on or before the horizon."""
    mean_rank: float
    """Mean rank of the group's scores in the pooled ranking (average ranks for ties; higher is better)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CafsComparison:
    """The program's CAFS against a comparator's: mean ranks and the Wilcoxon-Mann-Whitney test."""

    horizon_months: float
    program: CafsGroup
    comparator: CafsGroup
    u_statistic: float
    """Mann-Whitney U of the program: pairs in which the program patient scores higher, ties half."""
    p_value: float
    """Two-sided."""
    probability_of_superiority: float
    """U / (n₁·n₂): the probability that a random program patient has the better outcome than a random
    comparator patient, ties counting half (0.5 = no difference)."""
    method: str
    caveats: tuple[str, ...]


def _pooled(program: Outcomes, comparator: Outcomes) -> Outcomes:
    if program.horizon_months != comparator.horizon_months:
        problem = Problem(
            "horizon_months",
            f"program {program.horizon_months} and comparator {comparator.horizon_months} months "
            "differ: CAFS compares outcomes at one time point",
        )
        raise InvalidInput([problem], subject="CAFS comparison")
    return Outcomes(
        program.horizon_months,
        np.concatenate([program.death_months, comparator.death_months]),
        np.concatenate([program.changes, comparator.changes]),
    )


def _group(outcomes: Outcomes, ranks: NDArray[np.float64]) -> CafsGroup:
    ranked = outcomes.ranked
    return CafsGroup(
        n=int(ranked.sum()),
        excluded=int((~ranked).sum()),
        deaths=int(outcomes.died.sum()),
        mean_rank=float(ranks.mean()),
    )


def _caveats(program: CafsGroup, comparator: CafsGroup, horizon_months: float) -> tuple[str, ...]:
    caveats = [
        "CAFS pairwise rule: Finkelstein-Schoenfeld style, UNVERIFIED in detail (clinical.md §7.1).",
        "The comparator was not randomised: a difference in CAFS is descriptive, "
        "not evidence of efficacy.",
    ]
    if program.excluded or comparator.excluded:
        caveats.append(
            f"{program.excluded} program and {comparator.excluded} comparator patients alive at "
            f"{horizon_months:g} months without an ALSFRS-R rating were excluded, not imputed; "
            "if missing a rating is related to the outcome, the comparison is biased."
        )
    return tuple(caveats)


def compare_cohorts(program: Outcomes, comparator: Outcomes) -> CafsComparison:
    """Rank the pooled CAFS scores and compare the program with the comparator (clinical.md §7.1).

    The p-value is exact when there are no tied scores and at most :data:`EXACT_MAX_PAIRS` pairs,
    otherwise from the normal approximation with tie and continuity corrections. When every score
    is tied the groups cannot differ and the p-value is 1.

    Raises
    ------
    InsufficientData
        A group with no ranked patient.
    InvalidInput
        The groups' horizons differ.
    """
    pooled_scores = scores(_pooled(program, comparator))
    ours = pooled_scores[: program.n][program.ranked]
    theirs = pooled_scores[program.n :][comparator.ranked]
    if not (ours.size and theirs.size):
        raise InsufficientData(
            f"CAFS needs a ranked patient in each group; ranked: program {ours.size}, comparator "
            f"{theirs.size} (patients alive without a rating at the horizon are excluded)"
        )
    ranks = rankdata(np.concatenate([ours, theirs]))
    tied = np.unique(ranks).size < ranks.size
    exact = not tied and ours.size * theirs.size <= EXACT_MAX_PAIRS
    test = mannwhitneyu(
        ours, theirs, alternative="two-sided", method="exact" if exact else "asymptotic"
    )
    groups = _group(program, ranks[: ours.size]), _group(comparator, ranks[ours.size :])
    how = "exact" if exact else "normal approximation with tie and continuity corrections"
    return CafsComparison(
        horizon_months=program.horizon_months,
        program=groups[0],
        comparator=groups[1],
        u_statistic=float(test.statistic),
        p_value=float(test.pvalue),
        probability_of_superiority=float(test.statistic) / (ours.size * theirs.size),
        method=f"Wilcoxon-Mann-Whitney on CAFS scores, two-sided, {how}",
        caveats=_caveats(*groups, program.horizon_months),
    )


# ---------------------------------------------------------------- simulated comparator


@dataclass(frozen=True, slots=True, eq=False)
class Baselines:
    """Where simulated comparator patients start: one entry per patient."""

    totals: NDArray[np.float64]
    """True ALSFRS-R totals at baseline, 0..48 (the simulator adds rating noise)."""
    months_since_onset: NDArray[np.float64]
    """Months from symptom onset to baseline, > 0: survival is conditional on reaching it (§5.5)."""

    def __post_init__(self) -> None:
        totals = _floats(self.totals, "totals")
        onset = _floats(self.months_since_onset, "months_since_onset")
        if totals.shape != onset.shape:
            raise ValueError(f"totals {totals.shape} and months_since_onset {onset.shape} differ")
        if not np.all((totals >= 0) & (totals <= MAX_TOTAL)):
            raise ValueError(f"totals must be within 0..{MAX_TOTAL}")
        if not np.all(np.isfinite(onset) & (onset > 0)):
            raise ValueError("months_since_onset must be finite numbers > 0")
        object.__setattr__(self, "totals", totals)
        object.__setattr__(self, "months_since_onset", onset)


BaselineDraw: TypeAlias = Callable[[np.random.Generator, int], Baselines]
"""Draws n comparator baselines with the given generator, e.g. from a supplied distribution."""


def resampled_baselines(totals: Floats, months_since_onset: Floats) -> BaselineDraw:
    """Draw baselines by resampling the program's patients with replacement (both values of a patient
    together), so that the comparator matches the program's case mix."""
    pool = Baselines(
        np.asarray(totals, dtype=np.float64), np.asarray(months_since_onset, dtype=np.float64)
    )
    if pool.totals.size == 0:
        raise ValueError("resampled_baselines needs at least one patient")

    def draw(rng: np.random.Generator, n: int) -> Baselines:
        chosen = rng.integers(0, pool.totals.size, n)
        return Baselines(pool.totals[chosen], pool.months_since_onset[chosen])

    return draw


def simulate_comparator(
    model: nh.NaturalHistoryModel,
    *,
    n: int,
    months: float,
    rng: np.random.Generator,
    baselines: BaselineDraw,
) -> Outcomes:
    """A natural-history comparator cohort: CAFS outcomes of ``n`` untreated patients at ``months``.

    ALSFRS-R ratings at baseline and at the horizon come from :func:`natural_history.simulate_ratings`
    with ΔFS drawn from the population; deaths from the model's log-normal survival from onset
    conditional on being alive at baseline (clinical.md §5.5, §6). Decline and death are drawn
    independently (a limitation of the model), and nobody drops out. A patient who dies on or before
    the horizon has a death month and no change; every survivor has a change.

    Raises
    ------
    ValueError
        ``n`` < 1, a horizon that is not a positive number of months, or ``baselines`` returning the
        wrong number of patients.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if not (math.isfinite(months) and months > 0):
        raise ValueError(f"months must be a number > 0, got {months}")
    drawn = baselines(rng, n)
    if drawn.totals.shape != (n,):
        raise ValueError(f"baselines returned {drawn.totals.shape[0]} patients, not {n}")
    ratings = nh.simulate_ratings(model, true_baselines=drawn.totals, months=[0.0, months], rng=rng)
    changes = (ratings[:, 1] - ratings[:, 0]).astype(np.float64)
    death_months = nh.simulate_death_months(model, drawn.months_since_onset, rng)
    died = death_months <= months
    return Outcomes(months, np.where(died, death_months, np.nan), np.where(died, np.nan, changes))
