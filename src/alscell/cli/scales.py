"""``alscell alsfrs`` and ``alscell encals``: score one rating or predict one patient's survival."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

import typer

from alscell.cli.console import make_console, reported_errors
from alscell.domain import alsfrs, encals, staging
from alscell.errors import InvalidInput, Problem

alsfrs_app = typer.Typer(help="Score ALSFRS-R ratings (clinical.md §1) and stage them (§3, §4).")
encals_app = typer.Typer(help="ENCALS survival predictions from symptom onset (clinical.md §5).")

FOLLOW_UP_MONTHS = (6, 12, 24)


class C9orf72Status(StrEnum):
    """C9orf72 repeat-expansion status as given on the command line."""

    UNKNOWN = "unknown"
    YES = "yes"
    NO = "no"


@alsfrs_app.command("score")
def score_rating(
    responses: Annotated[
        list[str],
        typer.Argument(help="Item responses as KEY=VALUE, e.g. q1=4 q2=3 ... q5a=4 ... q12=4."),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Score one ALSFRS-R rating: total, domains, King's stage and MiToS stage."""
    with reported_errors():
        items = parse_responses(responses)
        result = alsfrs.score(items)
        kings, mitos = staging.kings_stage(items), staging.mitos_stage(items)
    summary: dict[str, Any] = {
        "total": result.total,
        **{str(domain): value for domain, value in result.domains.items()},
        "gastrostomy": result.gastrostomy,
        "kings_stage": str(kings),
        "mitos_stage": mitos,
        "scale_version": result.scale_version,
    }
    _show(summary, as_json=as_json)


def parse_responses(responses: list[str]) -> dict[str, object]:
    """Turn ``KEY=VALUE`` words into a mapping; values that are not ints stay strings for the scale
    to reject, so every problem is reported together."""
    items: dict[str, object] = {}
    problems = []
    for word in responses:
        key, sep, raw = word.partition("=")
        if not sep or not key:
            problems.append(Problem(word, "expected KEY=VALUE, e.g. q1=4"))
            continue
        if key in items:
            problems.append(Problem(key, "given more than once"))
        items[key] = int(raw) if raw.strip().lstrip("-").isdigit() else raw
    if problems:
        raise InvalidInput(problems, subject="ALSFRS-R responses")
    return items


@encals_app.command("predict")
def predict(
    age_at_onset: Annotated[float, typer.Option(help="Age at symptom onset, years.")],
    delta_fs: Annotated[
        float, typer.Option(help="ΔFS, ALSFRS-R points lost per month (positive).")
    ],
    diagnostic_delay: Annotated[float, typer.Option(help="Months from onset to diagnosis.")],
    vital_capacity: Annotated[float, typer.Option(help="Vital capacity, % predicted.")],
    bulbar_onset: Annotated[bool, typer.Option(help="Bulbar site of onset.")] = False,
    definite: Annotated[bool, typer.Option(help="Definite ALS by revised El Escorial.")] = False,
    ftd: Annotated[bool, typer.Option(help="ALS-FTD.")] = False,
    c9orf72: Annotated[
        C9orf72Status, typer.Option(help="C9orf72 expansion.")
    ] = C9orf72Status.UNKNOWN,
    scale: Annotated[
        encals.SurvivalScale, typer.Option(help="Survival scale (odds is the default; unverified).")
    ] = encals.SurvivalScale.ODDS,
    months_survived: Annotated[
        float | None,
        typer.Option(
            help="Months from onset already survived (e.g. to enrollment), for conditional survival."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Predict event-free survival (death, tracheostomy, NIV > 23 h/day) with the ENCALS model."""
    status = None if c9orf72 is C9orf72Status.UNKNOWN else c9orf72 is C9orf72Status.YES
    with reported_errors():
        lp = encals.linear_predictor(
            age_at_onset_years=age_at_onset,
            delta_fs=delta_fs,
            diagnostic_delay_months=diagnostic_delay,
            vital_capacity_percent=vital_capacity,
            bulbar_onset=bulbar_onset,
            definite_el_escorial=definite,
            ftd=ftd,
            c9orf72=status,
        )
        median = encals.median_survival_months(lp, scale=scale)
        summary: dict[str, Any] = {
            "linear_predictor": round(lp, 4),
            "coefficient_set": encals.coefficient_set_for(status).name,
            "scale": str(scale),
            "median_months_from_onset": None if median is None else round(median, 1),
        }
        if months_survived is not None:
            for ahead in FOLLOW_UP_MONTHS:
                p = encals.conditional_survival(
                    lp, months_survived + ahead, months_survived, scale=scale
                )
                summary[f"event_free_{ahead}_months_later"] = round(p, 3)
    _show(summary, as_json=as_json)


def _show(summary: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    console = make_console()
    for key, value in summary.items():
        shown = "not reached" if value is None else value
        console.print(f"{key.replace('_', ' ')}: {shown}")
