"""``alscell power``: the power table on the terminal and as JSON (clinical.md §6, §7.4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from alscell.cli import app
from alscell.domain.stats import power as pw
from alscell.storage.comparator_files import (
    builtin_natural_history,
    builtin_natural_history_path,
)

FAST = ("--simulations", "300", "--seed", "7")


@pytest.fixture(autouse=True)
def builtin_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALSCELL_NATURAL_HISTORY_FILE", raising=False)


def run(*args: str) -> Result:
    return CliRunner().invoke(app, ["power", *args])


def test_the_json_holds_every_cell_as_the_domain_computes_it():
    result = run("--design", "randomized", "--n", "20", "--n", "40", "--slowing", "0.25",
                 "--slowing", "0.5", "--json", *FAST)  # fmt: skip

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    expected = pw.power_table(builtin_natural_history(), pw.TrialDesign.RANDOMIZED, ns=[20, 40],
                              slowings=[0.25, 0.5], seed=7, simulations=300)  # fmt: skip
    assert data["software_version"]
    assert (data["design"], data["ns"], data["slowings"]) == ("randomized", [20, 40], [0.25, 0.5])
    assert [(c["n"], c["slowing"], c["rejections"], c["power"]) for c in data["results"]] == [
        (c.n, c.slowing, c.rejections, c.power) for c in expected.results
    ]
    first = data["results"][0]
    assert (first["alternative"], first["alpha"], first["months"], first["simulations"]) == (
        "two-sided", 0.05, 6.0, 300,
    )  # fmt: skip
    assert first["interval"] == {"low": expected.results[0].interval.low,
                                 "high": expected.results[0].interval.high}  # fmt: skip
    assert (first["model"], first["seed"]) == ("natural-history 1.0", 7)
    assert data["method"].startswith("Randomized 1:1")


def test_the_terminal_shows_a_row_per_n_a_column_per_slowing_and_a_plain_note():
    result = run(
        "--design", "single-arm", "--n", "12", "--slowing", "0.2", "--slowing", "0.5", *FAST
    )

    assert result.exit_code == 0, result.output
    expected = pw.power_table(builtin_natural_history(), pw.TrialDesign.SINGLE_ARM, ns=[12],
                              slowings=[0.2, 0.5], seed=7, simulations=300)  # fmt: skip
    text = " ".join(result.stdout.split())
    assert "Power of a single-arm design at 6 months" in text
    assert "slowing 20%" in text
    assert "slowing 50%" in text
    cells = [
        f"{c.power:.2f} ({c.interval.low:.2f}-{c.interval.high:.2f})" for c in expected.results
    ]
    assert f"│ 12 │ {cells[0]} │ {cells[1]} │" in result.stdout
    assert "one-sample z-test, one-sided at alpha 0.05" in text
    assert "this power assumes the model is right for these patients" in text
    assert text.index("slowing 50%") < text.index("Deaths are ignored")


def test_without_n_or_slowing_the_defaults_are_20_and_40_by_25_and_50_percent():
    """Even numbers, so the defaults suit the 1:1 designs too; 25-50% is clinical.md §7.4's range."""
    result = run("--design", "delayed-start", "--json", "--simulations", "50")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["ns"], data["slowings"]) == ([20, 40], [0.25, 0.5])


def test_options_reach_the_planned_test():
    result = run("--design", "randomized", "--n", "10", "--slowing", "0.5", "--months", "12",
                 "--alpha", "0.1", "--alternative", "greater", "--json", *FAST)  # fmt: skip

    assert result.exit_code == 0, result.output
    cell = json.loads(result.stdout)["results"][0]
    assert (cell["months"], cell["alpha"], cell["alternative"]) == (12.0, 0.1, "greater")


def test_the_same_seed_gives_the_same_table():
    args = ("--design", "single-arm", "--n", "8", "--slowing", "0.5", "--json", *FAST)

    assert json.loads(run(*args).stdout) == json.loads(run(*args).stdout)


def test_a_configured_model_file_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = builtin_natural_history_path().read_text(encoding="utf-8")
    custom = tmp_path / "clinic-model.yaml"
    custom.write_text(text.replace('version: "1.0"', 'version: "1.0-clinic"'), encoding="utf-8")
    monkeypatch.setenv("ALSCELL_NATURAL_HISTORY_FILE", str(custom))

    result = run("--design", "single-arm", "--n", "8", "--slowing", "0.5", "--json", *FAST)

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["results"][0]["model"] == "natural-history 1.0-clinic"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--design", "randomized", "--n", "15"), "n: must be even for a 1:1 allocation, got 15"),
        (("--design", "single-arm", "--slowing", "1.5"), "slowing: must be a fraction in [0, 1)"),
        (("--design", "single-arm", "--alpha", "0"), "alpha: must be > 0 and <= 0.5, got 0.0"),
    ],
)
def test_bad_values_are_named_on_one_line(args, message):
    result = run(*args)

    assert result.exit_code == 1
    assert result.stderr.startswith("error: invalid power calculation")
    assert message in result.stderr


def test_an_unknown_design_is_a_usage_error():
    result = run("--design", "crossover")

    assert result.exit_code == 2
    assert "crossover" in result.stderr
