"""The ``alscell`` command line: help, scoring, prediction, errors and exit codes (the demo has its own
tests in test_demo.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from alscell import __version__
from alscell.cli import app

NORMAL = [
    f"{key}=4"
    for key in ("q1", "q2", "q3", "q4", "q5a", "q6", "q7", "q8", "q9", "q10", "q11", "q12")
]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_version(runner):
    result = runner.invoke(app, ["--version"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"alscell {__version__}"


def test_no_arguments_shows_help(runner):
    result = runner.invoke(app, [])

    assert "demo" in result.output
    assert "alsfrs" in result.output


def test_alsfrs_score_as_json(runner):
    changed = [*NORMAL[:7], "q8=1", "q9=2", *NORMAL[9:]]

    result = runner.invoke(app, ["alsfrs", "score", *changed, "--json"])

    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["total"] == 48 - 3 - 2
    assert summary["gross_motor"] == 12 - 3 - 2
    assert summary["kings_stage"] == "1"
    assert summary["mitos_stage"] == 1


def test_alsfrs_score_as_text(runner):
    result = runner.invoke(app, ["alsfrs", "score", *NORMAL])

    assert result.exit_code == 0, result.output
    assert "total: 48" in result.output


def test_alsfrs_score_lists_every_problem_and_exits_1(runner):
    result = runner.invoke(app, ["alsfrs", "score", *NORMAL[1:], "q9=7", "q2=x", "q2=3", "oops"])

    assert result.exit_code == 1
    assert result.stderr.startswith("error: invalid ALSFRS-R responses")
    assert "q2: given more than once" in result.stderr
    assert "oops: expected KEY=VALUE" in result.stderr


def test_alsfrs_score_reports_scale_problems(runner):
    words = [w for w in NORMAL if w.split("=")[0] not in ("q1", "q2", "q9")] + ["q9=7", "q2=x"]

    result = runner.invoke(app, ["alsfrs", "score", *words])

    assert result.exit_code == 1
    assert "q1: missing item" in result.stderr
    assert "q9: out of range: 7 is not in 0-4" in result.stderr
    assert "q2: not an int: got 'x'" in result.stderr


def test_encals_predict_with_conditional_survival(runner):
    args = ["encals", "predict", "--age-at-onset", "60", "--delta-fs", "0.5", "--diagnostic-delay", "12",
            "--vital-capacity", "80", "--months-survived", "18", "--json"]  # fmt: skip

    result = runner.invoke(app, args)

    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["coefficient_set"] == "encals-without-c9orf72"
    assert summary["scale"] == "odds"
    assert summary["linear_predictor"] == pytest.approx(-4.5872, abs=1e-4)
    assert 1 >= summary["event_free_6_months_later"] >= summary["event_free_24_months_later"] > 0


def test_encals_predict_text_and_c9orf72(runner):
    args = ["encals", "predict", "--age-at-onset", "60", "--delta-fs", "0.5", "--diagnostic-delay", "12",
            "--vital-capacity", "80", "--c9orf72", "yes", "--scale", "hazard"]  # fmt: skip

    result = runner.invoke(app, args)

    assert result.exit_code == 0, result.output
    assert "coefficient set: encals-with-c9orf72" in result.output
    assert "scale: hazard" in result.output


def test_encals_predict_refuses_bad_predictors(runner):
    args = ["encals", "predict", "--age-at-onset", "60", "--delta-fs", "-0.5", "--diagnostic-delay", "0",
            "--vital-capacity", "80"]  # fmt: skip

    result = runner.invoke(app, args)

    assert result.exit_code == 1
    assert "delta_fs: must be a finite number > -0.1" in result.stderr
    assert "diagnostic_delay_months: must be a finite number > 0" in result.stderr


def test_python_dash_m_runs_the_cli():
    completed = subprocess.run(
        [sys.executable, "-m", "alscell", "--version"], capture_output=True, text=True, check=False
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == f"alscell {__version__}"
