"""``alscell protocol``: list, check, schedule and book, with errors on stderr and exit status 1.

Dates for the seed protocol started on Monday 2026-01-05, worked by hand: implantations on days 10,
17, 24 and 31 (± 1 day), the last treatment day is day 38 (2026-02-12), and follow-up is counted from
the last implantation (2026-02-05) at round(months × 30.4375) days: +30, +91 and +183.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from alscell.cli import app

SEED = str(Path(__file__).parents[2] / "protocols" / "als-nsc-4lp.yaml")
BUILTIN_IDS = ("als-nsc-4lp", "nsi-566-phase1", "nurown-phase3", "oh-2015-it-msc")
IMPLANTATIONS = ("2026-01-15", "2026-01-22", "2026-01-29", "2026-02-05")

VISITS_ONLY = """\
id: visits-only
version: "0.2.0"
title: Visits only
duration: {min_days: 1, max_days: 10}
eligibility:
  diagnostic_system: awaji
  diagnosis_categories: [definite]
phases:
  - id: visits
    name: Visits
    activities:
      - {id: exam, kind: examination, name: Examination, day: 0}
follow_up:
  anchor_activity: exam
  anchor: first
  visits:
    - {id: month-2, name: Month 2, months: 2, window_days: 10}
analysis_plan:
  version: "0.1"
  primary_outcome: alsfrs_r_total_change
  time_point_months: 2
  anchor_activity: start
  improved_min_change: 2
  worsened_max_change: -3
  comparator: pro_act
"""

BAD = (
    VISITS_ONLY.replace("day: 0}", "day: -2, window_day: 1}")
    .replace("months: 2, window_days: 10", "months: 0, window_days: 10")
    .replace("diagnostic_system: awaji", "diagnostic_system: el_escorial")
)
BAD_PLACES = {
    "eligibility.diagnostic_system": "got 'el_escorial'",
    "phases[0].activities[0].day": "must be >= 0, got -2",
    "phases[0].activities[0].window_day": "unknown field; did you mean 'window_days'?",
    "follow_up.visits[0].months": "must be > 0, got 0",
}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def schedule_json(runner: CliRunner, *args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["protocol", "schedule", *args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def items_of(plan: dict[str, Any], activity_id: str) -> list[dict[str, Any]]:
    return [item for item in plan["items"] if item["activity_id"] == activity_id]


def assert_clean_failure(result: Result) -> None:
    """Exit status 1, one error line on stderr, no traceback anywhere."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- list


def test_list_shows_every_builtin_with_version_and_title(runner):
    result = runner.invoke(app, ["protocol", "list"])

    assert result.exit_code == 0, result.output
    ids = [line.split()[0] for line in result.stdout.splitlines()]
    assert ids[:4] == list(BUILTIN_IDS)
    assert "als-nsc-4lp  v1.0.0  Neural stem cell program for sporadic ALS" in result.stdout


# ---------------------------------------------------------------- check


def test_check_prints_the_summary_and_ok(runner):
    result = runner.invoke(app, ["protocol", "check", SEED])

    assert result.exit_code == 0, result.output
    output = result.stdout
    assert "id als-nsc-4lp, version 1.0.0; source: the clinic's program description" in output
    assert "program: 39 days as planned (bounds 35-49)" in output
    assert (
        "Intrathecal neural stem cell implantation (4 × every 7 days from day 10, ± 1 d)" in output
    )
    assert "IV neurotrophic factors" in output
    assert "(daily, days 7-34)" in output
    assert "(as needed from day 7)" in output
    assert "product: Xenogeneic neural stem cells" in output
    assert "follow-up from the last implantation: Follow-up month 1 (1 mo ± 7 d)" in output
    assert "stopping rules: related-grade-4, related-serious-grade-3" in output
    assert output.rstrip().endswith("OK: als-nsc-4lp v1.0.0 is a valid protocol.")


def test_check_of_a_protocol_without_product_source_or_stopping_rules(runner, tmp_path):
    result = runner.invoke(app, ["protocol", "check", write(tmp_path, "v.yaml", VISITS_ONLY)])

    assert result.exit_code == 0, result.output
    assert "id visits-only, version 0.2.0; source: not stated" in result.stdout
    assert "phase visits: Examination (day 0)" in result.stdout
    assert "follow-up from the first exam: Month 2 (2 mo ± 10 d)" in result.stdout
    assert "improved >= +2, worsened <= -3; comparator pro_act, control none" in result.stdout
    assert "stopping rules: none" in result.stdout
    assert "product:" not in result.stdout


def test_check_lists_every_problem_with_its_path_and_exits_1(runner, tmp_path):
    result = runner.invoke(app, ["protocol", "check", write(tmp_path, "bad.yaml", BAD)])

    assert_clean_failure(result)
    assert result.stderr.startswith("error: invalid protocol file bad.yaml (4 problems): ")
    for place, message in BAD_PLACES.items():
        assert f"{place}: " in result.stderr
        assert message in result.stderr
    assert "OK:" not in result.output


def test_check_reports_a_yaml_syntax_error_with_line_and_column(runner, tmp_path):
    path = write(tmp_path, "broken.yaml", VISITS_ONLY.replace("title: Visits", "title: Visits: "))

    result = runner.invoke(app, ["protocol", "check", path])

    assert_clean_failure(result)
    assert "broken.yaml, line 3, column 14: mapping values are not allowed here" in result.stderr


def test_check_of_a_missing_file_exits_1(runner, tmp_path):
    result = runner.invoke(app, ["protocol", "check", str(tmp_path / "absent.yaml")])

    assert_clean_failure(result)
    assert "absent.yaml' was not found" in result.stderr


def test_check_accepts_a_builtin_id(runner):
    result = runner.invoke(app, ["protocol", "check", "nurown-phase3"])

    assert result.exit_code == 0, result.output
    assert "OK: nurown-phase3 v1.0.0 is a valid protocol." in result.stdout
    assert "(3 × every 56 days from day 119, ± 7 d)" in result.stdout


def test_an_unknown_id_is_not_found(runner):
    result = runner.invoke(app, ["protocol", "check", "no-such-protocol"])

    assert_clean_failure(result)
    assert result.stderr.strip() == "error: protocol file 'no-such-protocol' was not found"


# ---------------------------------------------------------------- schedule


def test_schedule_shows_implantations_daily_iv_and_follow_up_with_windows(runner):
    result = runner.invoke(app, ["protocol", "schedule", SEED, "--start", "2026-01-05"])

    assert result.exit_code == 0, result.output
    output = result.stdout
    assert "start 2026-01-05 (Mon); treatment ends 2026-02-12; 39 days (bounds 35-49)" in output
    for line in (
        "2026-01-15 Thu  Intrathecal neural stem cell implantation 1/4  window 2026-01-14 to 2026-01-16",
        "2026-01-22 Thu  Intrathecal neural stem cell implantation 2/4  window 2026-01-21 to 2026-01-23",
        "2026-01-29 Thu  Intrathecal neural stem cell implantation 3/4  window 2026-01-28 to 2026-01-30",
        "2026-02-05 Thu  Intrathecal neural stem cell implantation 4/4  window 2026-02-04 to 2026-02-06",
        "2026-03-07 Sat  Follow-up month 1  window 2026-02-28 to 2026-03-14",
        "2026-05-07 Thu  Follow-up month 3  window 2026-04-23 to 2026-05-21",
        "2026-08-07 Fri  Follow-up month 6  window 2026-07-24 to 2026-08-21",
    ):  # fmt: skip
        assert line in output
    assert 'IV neurotrophic factors ("stem cell activation") 1/28' in output  # day 7, 2026-01-12
    assert 'IV neurotrophic factors ("stem cell activation") 28/28' in output  # day 34, 2026-02-08
    assert "2026-01-12 Mon │ 7" in output
    assert "2026-02-08 Sun │ 34" in output


def test_schedule_json_has_the_four_implantations(runner):
    plan = schedule_json(runner, SEED, "--start", "2026-01-05")

    implantations = items_of(plan, "implantation")
    assert [item["planned_on"] for item in implantations] == list(IMPLANTATIONS)
    assert [item["occurrence"] for item in implantations] == [1, 2, 3, 4]
    assert all(item["cell_dose"] and item["of"] == 4 for item in implantations)
    assert (implantations[0]["earliest_on"], implantations[0]["latest_on"]) == (
        "2026-01-14",
        "2026-01-16",
    )
    assert plan["protocol"] == {"id": "als-nsc-4lp", "version": "1.0.0"}
    assert (plan["start_on"], plan["treatment_end_on"], plan["duration_days"]) == (
        "2026-01-05",
        "2026-02-12",
        39,
    )
    assert plan["closures"] == []


def test_schedule_json_has_28_daily_iv_sessions_and_three_visits(runner):
    plan = schedule_json(runner, SEED, "--start", "2026-01-05")

    iv = items_of(plan, "iv-neurotrophic")
    assert len(iv) == 28
    assert (iv[0]["planned_on"], iv[-1]["planned_on"]) == ("2026-01-12", "2026-02-08")
    visits = [
        (item["activity_id"], item["planned_on"])
        for item in plan["items"]
        if item["phase_id"] is None
    ]
    assert visits == [
        ("month-1", "2026-03-07"),
        ("month-3", "2026-05-07"),
        ("month-6", "2026-08-07"),
    ]


def test_a_closed_day_moves_implantation_1_to_the_next_day(runner):
    plan = schedule_json(runner, SEED, "--start", "2026-01-05", "--closed", "2026-01-15")

    first = items_of(plan, "implantation")[0]
    assert first["planned_on"] == "2026-01-16"
    assert (first["earliest_on"], first["latest_on"]) == ("2026-01-14", "2026-01-16")
    assert first["note"] == "moved from 2026-01-15: clinic closed"
    assert plan["closures"] == ["2026-01-15"]
    iv_that_day = [
        item for item in items_of(plan, "iv-neurotrophic") if item["planned_on"] == "2026-01-15"
    ]
    assert [item["status"] for item in iv_that_day] == ["closed"]


def test_a_closed_day_is_shown_in_the_calendar(runner):
    args = ["protocol", "schedule", SEED, "--start", "2026-01-05", "--closed", "2026-01-15"]

    result = runner.invoke(app, args)

    assert result.exit_code == 0, result.output
    assert (
        "2026-01-16 Fri  Intrathecal neural stem cell implantation 1/4  window 2026-01-14 to 2026-01-16"
        in result.stdout
    )
    assert "(moved from 2026-01-15: clinic closed)" in result.stdout
    assert (
        'IV neurotrophic factors ("stem cell activation") 4/28  (clinic closed: not held)'
        in result.stdout
    )


def test_closed_is_repeatable(runner):
    plan = schedule_json(
        runner, SEED, "--start", "2026-01-05", "--closed", "2026-01-22", "--closed", "2026-01-15"
    )

    assert plan["closures"] == ["2026-01-15", "2026-01-22"]
    assert items_of(plan, "implantation")[0]["planned_on"] == "2026-01-16"


def test_a_builtin_id_can_be_used_instead_of_a_path(runner):
    plan = schedule_json(runner, "als-nsc-4lp", "--start", "2026-01-05")

    assert [item["planned_on"] for item in items_of(plan, "implantation")] == list(IMPLANTATIONS)


@pytest.mark.parametrize(
    ("args", "option", "text"),
    [(["--start", "2026-13-01"], "--start", "'2026-13-01'"),
     (["--start", "5 January 2026"], "--start", "'5 January 2026'"),
     (["--start", "2026-01-05", "--closed", "tomorrow"], "--closed", "'tomorrow'")],
)  # fmt: skip
def test_a_bad_date_exits_1_naming_the_option(runner, args, option, text):
    result = runner.invoke(app, ["protocol", "schedule", SEED, *args])

    assert_clean_failure(result)
    assert f"{option}: not a date in YYYY-MM-DD form: {text}" in result.stderr


# ---------------------------------------------------------------- book


def test_book_prints_start_dates_and_treatment_ends(runner):
    args = ["protocol", "book", SEED, "--patients", "3", "--earliest", "2026-01-05", "--slots", "1",
            "--beds", "2"]  # fmt: skip

    result = runner.invoke(app, args)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "patient 1: start 2026-01-05 (Mon), treatment ends 2026-02-12",
        "patient 2: start 2026-01-06 (Tue), treatment ends 2026-02-13",
        "patient 3: start 2026-02-13 (Fri), treatment ends 2026-03-23",
    ]


def test_book_never_starts_on_a_closed_day(runner):
    args = ["protocol", "book", "als-nsc-4lp", "--patients", "2", "--earliest", "2026-01-05",
            "--slots", "1", "--beds", "4", "--closed", "2026-01-05"]  # fmt: skip

    result = runner.invoke(app, args)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "patient 1: start 2026-01-06 (Tue), treatment ends 2026-02-13",
        "patient 2: start 2026-01-07 (Wed), treatment ends 2026-02-14",
    ]


@pytest.mark.parametrize(
    ("slots", "beds", "problems"),
    [("0", "2", ["procedure_slots_per_day: must be >= 1, got 0"]),
     ("1", "0", ["beds: must be >= 1, got 0"]),
     ("-1", "0", ["procedure_slots_per_day: must be >= 1, got -1", "beds: must be >= 1, got 0"])],
)  # fmt: skip
def test_book_refuses_bad_capacity(runner, slots, beds, problems):
    args = ["protocol", "book", SEED, "--patients", "2", "--earliest", "2026-01-05", "--slots", slots,
            "--beds", beds]  # fmt: skip

    result = runner.invoke(app, args)

    assert_clean_failure(result)
    assert result.stderr.startswith("error: invalid capacity")
    for problem in problems:
        assert problem in result.stderr


def test_book_refuses_a_bad_earliest_date(runner):
    args = ["protocol", "book", SEED, "--patients", "1", "--earliest", "2026/01/05", "--slots", "1",
            "--beds", "1"]  # fmt: skip

    result = runner.invoke(app, args)

    assert_clean_failure(result)
    assert "--earliest: not a date in YYYY-MM-DD form: '2026/01/05'" in result.stderr


def test_book_refuses_zero_patients_as_a_usage_error(runner):
    args = ["protocol", "book", SEED, "--patients", "0", "--earliest", "2026-01-05", "--slots", "1",
            "--beds", "1"]  # fmt: skip

    result = runner.invoke(app, args)

    assert result.exit_code == 2, result.output
    assert "--patients" in result.output


def test_book_exits_1_when_the_year_is_full(runner):
    # One bed: patient k starts 39 × (k - 1) days in, so patient 11 would need day 390 > 365.
    args = ["protocol", "book", SEED, "--patients", "11", "--earliest", "2026-01-05", "--slots", "1",
            "--beds", "1"]  # fmt: skip

    result = runner.invoke(app, args)

    assert_clean_failure(result)
    assert result.stderr.startswith(
        "error: patient 11 of 11 cannot start within 365 days of 2026-01-05"
    )
