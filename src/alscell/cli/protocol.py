"""``alscell protocol``: check a protocol file, load it, print a patient's calendar, book a cohort."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from alscell.cli.console import make_console, reported_errors
from alscell.cli.evaluate import user_named
from alscell.config import load_settings
from alscell.domain.booking import Capacity, propose_starts
from alscell.domain.protocol import Protocol
from alscell.domain.scheduling import ItemStatus, Plan, ScheduledActivity, plan_schedule
from alscell.errors import InvalidInput, Problem
from alscell.services.protocols import load_protocol_version
from alscell.storage import migrate
from alscell.storage.protocol_files import builtin_protocols, read_protocol
from alscell.storage.session import make_engine, make_session_factory

protocol_app = typer.Typer(
    help="Protocols: check a file, load it into the database, print a calendar, book a cohort."
)

ProtocolArg = Annotated[
    str, typer.Argument(help="A protocol YAML file, or the id of a built-in protocol (see 'list').")
]
ClosedOption = Annotated[
    list[str] | None,
    typer.Option("--closed", help="A day the clinic is closed (YYYY-MM-DD); repeatable."),
]


@protocol_app.command("list")
def list_protocols() -> None:
    """List the protocols shipped with alscell."""
    console = make_console()
    with reported_errors():
        for protocol_id, path in builtin_protocols().items():
            protocol = read_protocol(path)
            console.print(f"{protocol_id}  v{protocol.version}  {protocol.title}")


@protocol_app.command("check")
def check(protocol_file: ProtocolArg) -> None:
    """Validate a protocol file and print its summary; every problem is listed with its place."""
    with reported_errors():
        protocol = _load(protocol_file)
    console = make_console()
    for line in summarize(protocol):
        console.print(line)
    console.print(f"OK: {protocol.id} v{protocol.version} is a valid protocol.")


@protocol_app.command("load")
def load(
    protocol_file: ProtocolArg,
    by: Annotated[str, typer.Option("--by", help="The administrator loading it.")],
) -> None:
    """Store a protocol version in the database (validated; a key and version are stored once)."""
    with reported_errors():
        path = Path(protocol_file)
        if not path.exists() and protocol_file in builtin_protocols():
            path = builtin_protocols()[protocol_file]
        read_protocol(path)  # every problem with its place, before the database is opened
        settings = load_settings()
        engine = make_engine(settings.database_url)
        try:
            migrate.require_current(engine)
            with make_session_factory(engine)() as session:
                user = user_named(session, by)
                assert user is not None
                row = load_protocol_version(
                    session, text=path.read_text(encoding="utf-8"), source=path.name, by=user,
                    now=datetime.now(UTC),
                )  # fmt: skip
                make_console().print(
                    f"Loaded {row.key} v{row.version} as protocol version {row.id}."
                )
        finally:
            engine.dispose()


@protocol_app.command("schedule")
def schedule(
    protocol_file: ProtocolArg,
    start: Annotated[str, typer.Option(help="Program start, day 0 (YYYY-MM-DD).")],
    closed: ClosedOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON instead of a calendar.")
    ] = False,
) -> None:
    """Print a patient's calendar: every activity dated, with windows and follow-up visits."""
    with reported_errors():
        protocol = _load(protocol_file)
        plan = plan_schedule(protocol, _day(start, "--start"), closures=_days(closed))
    if as_json:
        typer.echo(json.dumps(plan_as_json(plan), indent=2))
        return
    console = make_console()
    for line in plan_overview(plan):
        console.print(line)
    console.print(calendar_table(plan))


@protocol_app.command("book")
def book(
    protocol_file: ProtocolArg,
    patients: Annotated[int, typer.Option(min=1, help="How many patients to place.")],
    earliest: Annotated[str, typer.Option(help="Earliest start date (YYYY-MM-DD).")],
    slots: Annotated[int, typer.Option(help="Cell-dose procedure slots per day.")],
    beds: Annotated[int, typer.Option(help="Beds for patients in their treatment program.")],
    closed: ClosedOption = None,
    horizon: Annotated[
        int, typer.Option(min=1, help="Days after --earliest to search for a start.")
    ] = 365,
) -> None:
    """Propose start dates so that no day exceeds the procedure slots or beds (greedy, in order)."""
    with reported_errors():
        protocol = _load(protocol_file)
        capacity = Capacity.of(procedure_slots_per_day=slots, beds=beds)
        starts = propose_starts(
            protocol, patients, earliest_on=_day(earliest, "--earliest"), capacity=capacity,
            closures=_days(closed), horizon_days=horizon,
        )  # fmt: skip
    console = make_console()
    for number, start_on in enumerate(starts, start=1):
        plan = plan_schedule(protocol, start_on, closures=_days(closed))
        console.print(
            f"patient {number}: start {start_on} ({start_on:%a}), treatment ends {plan.treatment_end_on}"
        )


def summarize(protocol: Protocol) -> list[str]:
    """Lines describing a protocol for its check."""
    bounds = protocol.duration
    lines = [
        f"{protocol.title}",
        f"id {protocol.id}, version {protocol.version}; source: {protocol.source or 'not stated'}",
        f"program: {protocol.planned_days} days as planned (bounds {bounds.min_days}-{bounds.max_days})",
    ]
    for phase in protocol.phases:
        names = ", ".join(f"{a.name} ({_repeat_text(protocol, a.id)})" for a in phase.activities)
        lines.append(f"phase {phase.id}: {names}")
    if protocol.product is not None:
        product = protocol.product
        lines.append(
            f"product: {product.name}, {product.source} {product.cell_type}, {product.route}, "
            f"{product.dose.describe()}; release: viability >= {product.release.viability_percent_min:g} %, "
            f"sterility {product.release.sterility}, endotoxin K {product.endotoxin_k_eu_per_kg:g} EU/kg"
        )
    follow_up = protocol.follow_up
    visits = ", ".join(f"{v.name} ({v.months:g} mo ± {v.window_days} d)" for v in follow_up.visits)
    lines.append(f"follow-up from the {follow_up.anchor} {follow_up.anchor_activity}: {visits}")
    plan = protocol.analysis_plan
    lines.append(
        f"analysis plan v{plan.version}: {plan.primary_outcome} at {plan.time_point_months:g} months; "
        f"improved >= {plan.improved_min_change:+g}, worsened <= {plan.worsened_max_change:+g}; "
        f"comparator {plan.comparator}, control {plan.control}"
    )
    lines.append(
        f"stopping rules: {', '.join(rule.id for rule in protocol.stopping_rules) or 'none'}"
    )
    return lines


def plan_overview(plan: Plan) -> list[str]:
    """The key dates of a plan: doses, follow-up visits, program length against its bounds."""
    protocol = plan.protocol
    bounds = protocol.duration
    lines = [
        f"{protocol.title} (v{protocol.version})",
        f"start {plan.start_on} ({plan.start_on:%a}); treatment ends {plan.treatment_end_on}; "
        f"{plan.duration_days} days (bounds {bounds.min_days}-{bounds.max_days})",
    ]
    for item in plan.items:
        if item.cell_dose or not item.in_treatment:
            lines.append(
                f"  {_when(item)}  {_label(item)}  window {item.earliest_on} to {item.latest_on}"
            )
    return lines


def calendar_table(plan: Plan) -> Table:
    """One row per day with everything planned that day."""
    table = Table(title="Calendar", show_lines=True)
    for header in ("date", "day", "activities"):
        table.add_column(header)
    days = sorted({item.on for item in plan.items})
    for day in days:
        cells = [_cell(item) for item in plan.items if item.on == day]
        table.add_row(f"{day} {day:%a}", str((day - plan.start_on).days), "\n".join(cells))
    return table


def plan_as_json(plan: Plan) -> dict[str, Any]:
    """A plan as JSON-ready data."""
    items = [
        {
            key: value.isoformat() if isinstance(value, date) else value
            for key, value in asdict(item).items()
        }
        for item in plan.items
    ]
    return {
        "protocol": {"id": plan.protocol.id, "version": plan.protocol.version},
        "start_on": plan.start_on.isoformat(),
        "treatment_end_on": plan.treatment_end_on.isoformat(),
        "duration_days": plan.duration_days,
        "closures": sorted(day.isoformat() for day in plan.closures),
        "items": items,
    }


def _cell(item: ScheduledActivity) -> str:
    text = _label(item)
    if item.earliest_on != item.latest_on:
        text += f"  (window {item.earliest_on:%m-%d} to {item.latest_on:%m-%d})"
    if item.status is ItemStatus.CLOSED:
        text += "  (clinic closed: not held)"
    if item.note and item.status is not ItemStatus.CLOSED:
        text += f"  ({item.note})"
    return f"[bold]{escape(text)}[/bold]" if item.cell_dose else escape(text)


def _label(item: ScheduledActivity) -> str:
    return f"{item.name} {item.occurrence}/{item.of}" if item.of and item.of > 1 else item.name


def _when(item: ScheduledActivity) -> str:
    return f"{item.on} {item.on:%a}"


def _repeat_text(protocol: Protocol, activity_id: str) -> str:
    activity = protocol.activity(activity_id)
    repeat = activity.repeat
    text = {
        "once": f"day {activity.day}",
        "daily": f"daily, days {activity.day}-{activity.last_day}",
        "every_n_days": f"{repeat.count} × every {repeat.every_days} days from day {activity.day}",
        "as_needed": f"as needed from day {activity.day}",
    }[repeat.rule]
    return text + (f", ± {activity.window_days} d" if activity.window_days else "")


def _load(protocol_file: str) -> Protocol:
    path = Path(protocol_file)
    if not path.exists() and protocol_file in builtin_protocols():
        path = builtin_protocols()[protocol_file]
    return read_protocol(path)


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput([Problem(option, f"not a date in YYYY-MM-DD form: {text!r}")]) from None


def _days(texts: list[str] | None) -> list[date]:
    return [_day(text, "--closed") for text in texts or []]
