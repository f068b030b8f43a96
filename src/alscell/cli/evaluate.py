"""``alscell evaluate``: each patient against natural history, the cohort, and what the design can show.

The command reads the database in ``ALSCELL_DATABASE_URL`` and compares outcomes with the natural-history
model shipped with alscell, or the one in ``ALSCELL_NATURAL_HISTORY_FILE``. The operator at the console
holds the database already, so the evaluation covers every site unless ``--by`` names a user whose view
it should take. The evidence statement comes first, before any number.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import typer
from rich.panel import Panel
from rich.progress import Progress
from rich.table import Table
from sqlalchemy.orm import Session

from alscell import __version__
from alscell.cli.console import make_console, reported_errors
from alscell.config import Settings, load_settings
from alscell.domain import evaluation as ev
from alscell.domain.defaults import DEFAULT_SEED
from alscell.errors import InvalidInput, NotFound, Problem
from alscell.storage import migrate
from alscell.storage.comparator_files import natural_history_from, safety_reference_from
from alscell.storage.models import Enrollment, ProtocolVersion, User
from alscell.storage.session import make_engine, make_session_factory

if TYPE_CHECKING:
    from alscell.domain.analyses import Analyses

__all__ = ["data_cutoff_from", "enrolled_count", "evaluate", "protocol_to_evaluate", "user_named"]


def evaluate(
    protocol: Annotated[
        str | None,
        typer.Option("--protocol", help="Protocol version id, or protocol key (its newest version). "
                     "Needed when more than one protocol version has patients."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole evaluation as JSON.")] = False,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Data cut-off, YYYY-MM-DD (default: today at the clinic).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the natural-history simulation.")] = DEFAULT_SEED,
    draws: Annotated[int, typer.Option(help="Simulated courses per patient.")] = ev.DEFAULT_DRAWS,
    by: Annotated[
        str | None, typer.Option("--by", help="Evaluate as this user sees it (their sites only).")
    ] = None,
    comparator: Annotated[
        str | None, typer.Option("--comparator", help="Compute CAFS against this imported comparator cohort "
                                 "(alscell import proact) instead of a simulated natural-history cohort.")
    ] = None,
) -> None:  # fmt: skip
    """Evaluate outcomes against natural history and say what the design can and cannot show."""
    from alscell.domain.analyses import ANALYSIS_STEPS  # heavy: imported when run, not for --help
    from alscell.services.evaluation import evaluate_program

    with reported_errors():
        settings = load_settings()
        cutoff = data_cutoff_from(as_of, settings)
        model = natural_history_from(settings.natural_history_file)
        reference = safety_reference_from(settings.safety_reference_file)
        engine = make_engine(settings.database_url)
        try:
            migrate.require_current(engine)
            with make_session_factory(engine)() as session:
                user = user_named(session, by)
                protocol_id = protocol_to_evaluate(session, protocol, user)
                patients = enrolled_count(session, protocol_id)
                with Progress(transient=True, disable=as_json, console=make_console()) as progress:
                    task = progress.add_task(
                        "Evaluating patients, then the analyses", total=patients + ANALYSIS_STEPS
                    )
                    result = evaluate_program(session, protocol_id=protocol_id, by=user, today=cutoff, model=model,
                                              safety_reference=reference, seed=seed, draws=draws,
                                              progress=lambda: progress.advance(task),
                                              comparator_cohort=comparator)  # fmt: skip
        finally:
            engine.dispose()
    if as_json:
        typer.echo(
            json.dumps(
                {"software_version": __version__, **_data(result)}, indent=2, allow_nan=False
            )
        )
    else:
        show(result)


def _data(result: ev.Evaluation) -> dict[str, object]:
    data = ev.as_data(result)
    assert isinstance(data, dict)
    return data


def show(result: ev.Evaluation) -> None:
    """The evaluation on the terminal: statement first, then the cohort, the patients and the biases."""
    console = make_console()
    plan = result.plan
    console.print(
        f"[bold]{result.protocol_id} {result.protocol_version}[/bold] · analysis plan {result.design.plan_version}"
        f" ({'locked ' + str(result.design.plan_locked_on) if result.plan_locked else 'NOT locked'}) · "
        f"data cut-off {result.data_cutoff} · alscell {__version__} · {result.model}, seed {result.seed}, "
        f"{result.draws} draws"
    )
    console.print(
        f"Primary outcome: ALSFRS-R change from baseline {result.time_point.months:g} months after the "
        f"{result.time_point.anchor.value} {result.time_point.anchor_activity} (± {result.time_point.window_days} "
        f"days); improved ≥ {plan.improved_min_change:+g}, worsened ≤ {plan.worsened_max_change:+g}."
    )
    console.print(
        Panel("\n\n".join(result.statement), title="What these results can and cannot show")
    )
    console.print(_cohort_table(result))
    console.print(_patient_table(result))
    if result.analyses is not None:
        console.print(_analyses_table(result.analyses))
        for note in result.analyses.notes:
            console.print(f"[dim]Not run: {note}[/dim]")
    console.print("[bold]Biases that apply[/bold]")
    for bias in result.biases:
        console.print(f"- {bias}")


def _cohort_table(result: ev.Evaluation) -> Table:
    cohort = result.cohort
    table = Table(
        title=f"Cohort ({cohort.enrolled} enrolled; {cohort.known} of {cohort.due} due with a known outcome)"
    )
    for column in ("Category", "Observed", "95% interval", "Natural history"):
        table.add_column(column, justify="left" if column == "Category" else "right")
    for category in ev.Category:
        interval = cohort.intervals.get(category)
        expected = cohort.expected.get(category)
        table.add_row(
            category.value,
            str(cohort.counts[category]),
            f"{interval.low:.0%}-{interval.high:.0%}" if interval else "",
            f"{expected:.1f}" if expected is not None else "",
        )
    return table


def _patient_table(result: ev.Evaluation) -> Table:
    table = Table(title="Each patient")
    columns = ("Patient", "Baseline", "ΔFS", "Pre", "Post", "Reading", "Change", "Category",
               "Expected (95% range)", "Outside", "Responder", "Note")  # fmt: skip
    for column in columns:
        table.add_column(column)
    for p in result.patients:
        interval = p.expected_interval
        table.add_row(
            p.study_code,
            f"{p.baseline.total} ({p.baseline.rated_on})" if p.baseline else "",
            _number(p.delta_fs), _number(p.pre_slope), _number(p.post_slope),
            f"{p.reading.total} ({p.reading.rated_on})" if p.reading else "",
            f"{p.change:+d}" if p.change is not None else "",
            p.category.value if p.category else "",
            f"{p.expected_change:+.0f} ({interval.low:+.0f} to {interval.high:+.0f})" if interval and p.expected_change is not None else "",
            p.outside or "", "" if p.responder is None else ("yes" if p.responder else "no"),
            "; ".join(filter(None, (p.note, *p.overrides))),
        )  # fmt: skip
    return table


def _analyses_table(done: Analyses) -> Table:
    """The standard analyses' key figures (the statement above says what each can and cannot show)."""
    table = Table(title="Standard analyses (descriptive in a single arm)")
    table.add_column("Analysis")
    table.add_column("Result")
    if (fit := done.mixed_model) is not None:
        for name, estimate in (("slope before first dose", fit.pre_slope), ("slope after", fit.post_slope),
                               ("change in slope", fit.slope_change)):  # fmt: skip
            table.add_row(f"Mixed model: {name}", f"{estimate.value:+.2f} points/month "
                          f"(95% CI {estimate.low:+.2f} to {estimate.high:+.2f})")  # fmt: skip
    if (survival := done.survival) is not None:
        events = survival.events
        table.add_row("Survival vs ENCALS", f"observed {events.observed}, expected {events.expected:.2f}; "
                      f"ratio {events.ratio:.2f} (95% CI {events.interval.low:.2f} to {events.interval.high:.2f})")  # fmt: skip
    if (cafs := done.cafs) is not None:
        against = (
            f"imported cohort {done.comparator_label}"
            if done.comparator_label
            else "simulated natural history"
        )
        table.add_row(f"CAFS vs {against}",
                      f"P(better) {cafs.probability_of_superiority:.2f}, p = {cafs.p_value:.2g} "
                      f"({cafs.program.n} vs {cafs.comparator.n})")  # fmt: skip
    if (pdph := done.pdph) is not None:
        share = pdph.observed.punctures
        table.add_row("Post-dural-puncture headache", f"{share.count} of {share.total} punctures")
    for result in done.power:
        table.add_row(f"Power, {result.slowing:.0%} slowing", f"{result.power:.0%} "
                      f"(n = {result.n}, {result.design.value})")  # fmt: skip
    return table


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def data_cutoff_from(as_of: str | None, settings: Settings) -> date:
    if as_of is None:
        return datetime.now(UTC).astimezone(ZoneInfo(settings.clinic_timezone)).date()
    try:
        return date.fromisoformat(as_of)
    except ValueError as error:
        raise InvalidInput(
            [Problem("--as-of", f"must be a date YYYY-MM-DD, got {as_of!r}")], subject="command"
        ) from error


def user_named(session: Session, username: str | None) -> User | None:
    if username is None:
        return None
    user = session.execute(sa.select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound("user", username)
    return user


def protocol_to_evaluate(session: Session, protocol: str | None, user: User | None) -> int:
    """The protocol version asked for; or the only one with patients."""
    from alscell.services.evaluation import evaluation_protocols  # heavy: imported when run

    candidates = evaluation_protocols(session, by=user)
    if protocol is None:
        if len(candidates) == 1:
            return candidates[0].id
        found = ", ".join(f"{row.id} ({row.key} {row.version})" for row in candidates) or "none"
        rule = f"name the protocol version to evaluate; versions with patients: {found}"
        raise InvalidInput([Problem("--protocol", rule)], subject="command")
    if protocol.isdigit():
        return int(protocol)
    versions = [row for row in candidates if row.key == protocol]
    if not versions:
        statement = (
            sa.select(ProtocolVersion)
            .where(ProtocolVersion.key == protocol)
            .order_by(ProtocolVersion.loaded_at.desc())
        )
        versions = list(session.execute(statement).scalars())
    if not versions:
        raise NotFound("protocol", protocol)
    return versions[0].id


def enrolled_count(session: Session, protocol_id: int) -> int:
    return int(
        session.execute(
            sa.select(sa.func.count()).where(Enrollment.protocol_id == protocol_id)
        ).scalar_one()
    )
