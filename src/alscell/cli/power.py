"""``alscell power``: how often a design's planned analysis would detect a given slowing of decline.

Trials are simulated from the natural-history model shipped with alscell, or the one in
``ALSCELL_NATURAL_HISTORY_FILE`` (clinical.md §6); a slowing of 20-50% is what clinicians and patients
call meaningful (§7.4). The designs and their planned analyses are described in
:mod:`alscell.domain.stats.power`.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from alscell import __version__
from alscell.cli.console import make_console, reported_errors
from alscell.config import load_settings
from alscell.domain.evaluation import as_data
from alscell.domain.stats import power as pw
from alscell.storage.comparator_files import natural_history_from

__all__ = ["power"]

DEFAULT_NS = (20, 40)
DEFAULT_SLOWINGS = (0.25, 0.5)
DEFAULT_SEED = 20_260_101


def power(
    design: Annotated[pw.TrialDesign, typer.Option(help="The trial design.", case_sensitive=False)],
    n: Annotated[
        list[int] | None,
        typer.Option("--n", help="Patients with a rating at the time point, in all arms; repeat for "
                     "more rows (default: 20 and 40)."),
    ] = None,
    slowing: Annotated[
        list[float] | None,
        typer.Option("--slowing", help="True slowing of decline as a fraction, e.g. 0.25 for 25%; "
                     "repeat for more columns (default: 0.25 and 0.5)."),
    ] = None,
    months: Annotated[float, typer.Option(help="Time point of the analysis, months.")] = pw.DEFAULT_MONTHS,
    alpha: Annotated[float, typer.Option(help="Significance level of the planned test.")] = pw.DEFAULT_ALPHA,
    alternative: Annotated[
        pw.Alternative | None,
        typer.Option(help="Alternative hypothesis (default: greater for a single arm, two-sided otherwise)."),
    ] = None,
    simulations: Annotated[int, typer.Option(help="Simulated trials per cell.")] = pw.DEFAULT_SIMULATIONS,
    seed: Annotated[int, typer.Option(help="Seed of the simulation (every cell uses it).")] = DEFAULT_SEED,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole table as JSON.")] = False,
) -> None:  # fmt: skip
    """Estimate the power of a design by simulation from the natural-history model."""
    ns, slowings = n or list(DEFAULT_NS), slowing or list(DEFAULT_SLOWINGS)
    with reported_errors():
        model = natural_history_from(load_settings().natural_history_file)
        with Progress(transient=True, disable=as_json, console=make_console()) as progress:
            task = progress.add_task("Simulating trials", total=len(ns) * len(slowings))
            table = pw.power_table(model, design, ns=ns, slowings=slowings, seed=seed, months=months,
                                   alpha=alpha, simulations=simulations, alternative=alternative,
                                   progress=lambda: progress.advance(task))  # fmt: skip
    if as_json:
        data = as_data(table)
        assert isinstance(data, dict)
        typer.echo(json.dumps({"software_version": __version__, **data}, indent=2, allow_nan=False))
    else:
        show(table)


def show(table: pw.PowerTable) -> None:
    """The table on the terminal: N down, slowing across, then what it assumes."""
    first = table.results[0]
    console = make_console()
    console.print(_grid(table))
    console.print(table.method)
    console.print(
        f"Power = share of {first.simulations} simulated trials per cell rejecting at alpha "
        f"{first.alpha:g}, with its exact 95% Monte-Carlo interval; {first.model}, seed {first.seed}, "
        f"alscell {__version__}. At 0% slowing it is the false-positive rate."
    )
    for caveat in table.caveats:
        console.print(f"- {caveat}")


def _grid(table: pw.PowerTable) -> Table:
    first = table.results[0]
    grid = Table(title=f"Power of a {table.design.value} design at {first.months:g} months")
    grid.add_column("N", justify="right")
    for slowing in table.slowings:
        grid.add_column(f"slowing {slowing * 100:g}%", justify="right")
    for n in table.ns:
        cells = (table.cell(n, slowing) for slowing in table.slowings)
        grid.add_row(
            str(n),
            *(f"{c.power:.2f} ({c.interval.low:.2f}-{c.interval.high:.2f})" for c in cells),
        )
    return grid
