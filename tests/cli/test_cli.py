"""The ``alscell`` command line: demo, scoring, prediction, errors and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alscell import __version__
from alscell.cli import app
from alscell.cli.demo import read_patients

SAMPLE = Path(__file__).parents[2] / "src" / "alscell" / "cli" / "samples" / "demo-patients.csv"
HEADER = SAMPLE.read_text(encoding="utf-8").splitlines()[0]
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


def test_demo_scores_every_sample_patient(runner):
    result = runner.invoke(app, ["demo"])

    assert result.exit_code == 0, result.output
    for code in ("DEMO-01", "DEMO-02", "DEMO-03", "DEMO-04", "DEMO-05", "DEMO-06"):
        assert code in result.output
    assert "not a forecast for one person" in result.output


def test_demo_rows_show_the_stages_of_the_sample(runner):
    # DEMO-03 has a gastrostomy and no NIV -> 4A; DEMO-04 uses NIV (q12 = 2) -> 4B and has lost
    # speech but can still write, so MiToS counts swallowing and breathing only (AND rule) -> 2.
    lines = {line.split()[1]: line for line in runner.invoke(app, ["demo"]).output.splitlines()
             if line.startswith("│ DEMO")}  # fmt: skip

    assert "│     4A │     1 │" in lines["DEMO-03"]
    assert "│     4B │     2 │" in lines["DEMO-04"]


def test_demo_reports_every_bad_cell_with_row_and_column(runner, tmp_path):
    rows = [
        HEADER,
        "P1,60,spinal,definite,no,2025-01-01,2025-06-01,2025-08-01,80,4,4,4,4,4,,4,4,4,4,4,4,4",
        "P2,sixty,lumbar,definite,maybe,2025-01-01,2025-13-01,2025-08-01,80,4,4,4,4,4,3,4,4,4,4,9,4,4",
    ]
    path = tmp_path / "ratings.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")

    result = runner.invoke(app, ["demo", "--ratings", str(path)])

    assert result.exit_code == 1
    message = result.stderr
    for place in ("row 3, column age_at_onset_years", "row 3, column site_of_onset",
                  "row 3, column ftd", "row 3, column diagnosis_on", "row 3, column q5a/q5b",
                  "row 3, column q10"):  # fmt: skip
        assert place in message
    assert "row 2" not in message


def test_demo_reports_missing_columns(runner, tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("patient,onset_on\nP1,2025-01-01\n", encoding="utf-8")

    result = runner.invoke(app, ["demo", "--ratings", str(path)])

    assert result.exit_code == 1
    assert "ratings.csv, header: missing columns: age_at_onset_years" in result.stderr


def test_demo_names_the_patient_when_a_model_refuses_a_value(runner, tmp_path):
    row = "P9,60,spinal,definite,no,2025-01-01,2024-12-01,2025-08-01,0,4,4,4,4,4,,4,4,4,4,4,4,4"
    path = tmp_path / "ratings.csv"
    path.write_text(f"{HEADER}\n{row}\n", encoding="utf-8")

    result = runner.invoke(app, ["demo", "--ratings", str(path)])

    assert result.exit_code == 1
    assert "P9, diagnostic_delay_months" in result.stderr
    assert "P9, vital_capacity_percent" in result.stderr


def test_sample_file_reads_cleanly():
    patients = read_patients(SAMPLE)

    assert [p.code for p in patients] == [f"DEMO-0{i}" for i in range(1, 7)]


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
