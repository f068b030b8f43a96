"""Golden ENCALS values, computed independently of alscell from clinical.md §5 in 40-digit decimals.

Run from the repository root to rewrite the CSV files beside this script::

    .venv/bin/python tests/domain/golden/encals_golden.py

It imports nothing from alscell: predictors are transformed (§5.2), weighted by the coefficients of
§5.3, and the Royston-Parmar baseline (§5.4) is written out term by term with the last basis term
cubed (§5.5 warning 1). Medians are found by bisection on ln(t) (§5.5), not by the code under test's
closed form or Brent's method.
"""

from __future__ import annotations

import csv
from decimal import Decimal, getcontext
from pathlib import Path

getcontext().prec = 40
D = Decimal
HERE = Path(__file__).parent

COEFFICIENTS = {  # clinical.md §5.3
    "without": {"slope": D("-1.839"), "dx": D("-2.376"), "age": D("-0.264"), "vc": D("0.474"),
                "bulbar": D("0.271"), "definite": D("0.238"), "ftd": D("0.415"), "c9": D(0)},
    "with": {"slope": D("-1.837"), "dx": D("-2.373"), "age": D("-0.267"), "vc": D("0.477"),
             "bulbar": D("0.269"), "definite": D("0.233"), "ftd": D("0.388"), "c9": D("0.256")},
}  # fmt: skip
GAMMA = (D("-6.409"), D("2.643"), D("-0.546"), D("0.585"))  # clinical.md §5.4
K_MIN, K1, K2, K_MAX = D("0.081"), D("3.108"), D("3.638"), D("5.917")

# case, age at onset (y), ΔFS (points/month), diagnostic delay (months), VC (%), bulbar, definite,
# FTD, C9orf72 ("" = unknown)
LP_CASES = [
    ("typical", "60", "0.5", "12", "80", 0, 0, 0, ""),
    ("young-fast-bulbar", "45", "1.2", "8", "95", 1, 1, 0, ""),
    ("old-slow-ftd-c9", "72", "0.2", "20", "60", 0, 1, 1, "1"),
    ("c9-negative", "55", "0.0", "30", "105", 1, 0, 1, "0"),
    ("slight-gain", "38", "-0.05", "3", "110", 0, 0, 0, ""),
]
SURVIVAL_LPS = ["-6", "-4.5", "-3", "-1.5"]
SURVIVAL_MONTHS = ["0.5", "6", "24", "30", "45", "120", "400", "600"]
MEDIAN_LPS = ["-20", "-7", "-6", "-4.5", "-3", "-1.5", "0", "7"]
CONDITIONAL = [("-4.5", "30", "18"), ("-3", "24", "12"), ("-6", "60", "48"), ("-1.5", "10", "10")]
SEARCH_MONTHS = (D("1e-9"), D(1200))


def linear_predictor(
    age: str, dfs: str, delay: str, vc: str, bulbar: int, definite: int, ftd: int, c9: str
) -> Decimal:
    beta = COEFFICIENTS["without" if c9 == "" else "with"]
    t_slope = 1 / (D(dfs) + D("0.1")).sqrt()
    t_dx = 1 / (D(delay) / 10).sqrt() + (D(delay) / 10).ln()
    t_age = 1 / (D(age) / 100) ** 2
    t_vc = 1 / (D(vc) / 100) + 1 / (D(vc) / 100).sqrt()
    return (beta["slope"] * t_slope + beta["dx"] * t_dx + beta["age"] * t_age + beta["vc"] * t_vc
            + beta["bulbar"] * bulbar + beta["definite"] * definite + beta["ftd"] * ftd
            + beta["c9"] * (int(c9) if c9 else 0))  # fmt: skip


def cube_plus(u: Decimal) -> Decimal:
    return u**3 if u > 0 else D(0)


def spline(x: Decimal) -> Decimal:
    lam1 = (K_MAX - K1) / (K_MAX - K_MIN)
    lam2 = (K_MAX - K2) / (K_MAX - K_MIN)
    v1 = cube_plus(x - K1) - lam1 * cube_plus(x - K_MIN) - (1 - lam1) * cube_plus(x - K_MAX)
    v2 = cube_plus(x - K2) - lam2 * cube_plus(x - K_MIN) - (1 - lam2) * cube_plus(x - K_MAX)
    return GAMMA[0] + GAMMA[1] * x + GAMMA[2] * v1 + GAMMA[3] * v2


def survival(lp: str, months: str | Decimal, scale: str) -> Decimal:
    z = spline(D(months).ln()) + D(lp)
    return 1 / (1 + z.exp()) if scale == "odds" else (-(z.exp())).exp()


def median(lp: str, scale: str) -> Decimal | str:
    lo, hi = (bound.ln() for bound in SEARCH_MONTHS)
    if survival(lp, SEARCH_MONTHS[1], scale) > D("0.5"):
        return ""  # not reached
    for _ in range(300):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if survival(lp, mid.exp(), scale) > D("0.5") else (lo, mid)
    return ((lo + hi) / 2).exp()


def write(name: str, header: list[str], rows: list[list[object]]) -> None:
    with (HERE / name).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([[f"{v:.25g}" if isinstance(v, Decimal) else v for v in r] for r in rows])


def main() -> None:
    write("encals_lp.csv",
          ["case", "age", "delta_fs", "delay", "vc", "bulbar", "definite", "ftd", "c9orf72", "lp"],
          [[*case, linear_predictor(*case[1:])] for case in LP_CASES])  # fmt: skip
    write("encals_survival.csv", ["lp", "months", "scale", "survival"],
          [[lp, t, scale, survival(lp, t, scale)]
           for lp in SURVIVAL_LPS for t in SURVIVAL_MONTHS for scale in ("odds", "hazard")])  # fmt: skip
    write(
        "encals_median.csv",
        ["lp", "scale", "median_months"],
        [[lp, scale, median(lp, scale)] for lp in MEDIAN_LPS for scale in ("odds", "hazard")],
    )
    write("encals_conditional.csv", ["lp", "months", "already_survived", "scale", "survival"],
          [[lp, t, t0, scale, survival(lp, t, scale) / survival(lp, t0, scale)]
           for lp, t, t0 in CONDITIONAL for scale in ("odds", "hazard")])  # fmt: skip


if __name__ == "__main__":
    main()
