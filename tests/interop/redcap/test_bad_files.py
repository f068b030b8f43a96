"""Broken REDCap files: every problem is found before anything is returned, each at its place."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest

from alscell.errors import InvalidImport
from alscell.interop.redcap import read_redcap, write_redcap
from tests.interop.sample import sample_dataset

Rows = list[list[str]]

# Row numbers of the sample's export (header = row 1), written out from the sample by hand:
MAIN_P1, RATING_P1_1, RATING_P1_2, VC_P1_1, AE_P1_2, MAIN_P2, LAST = 2, 7, 8, 9, 22, 23, 31


@pytest.fixture
def export(tmp_path: Path) -> list[Path]:
    return write_redcap(sample_dataset(), tmp_path / "export")


def _edit(path: Path, change: Callable[[Rows], None]) -> None:
    with path.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream))
    change(rows)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")


def _set(path: Path, cells: dict[tuple[int, str], str]) -> None:
    def change(rows: Rows) -> None:
        for (number, column), value in cells.items():
            rows[number - 1][rows[0].index(column)] = value

    _edit(path, change)


def _problems(paths: list[Path]) -> list[str]:
    with pytest.raises(InvalidImport) as caught:
        read_redcap(*paths)
    return [str(problem) for problem in caught.value.problems]


def test_bad_cells_are_all_reported_with_file_row_column_and_value(export: list[Path]) -> None:
    _set(export[0], {
        (MAIN_P1, "pt_sex"): "9",
        (MAIN_P1, "pt_birth_year"): "1850",
        (MAIN_P1, "pt_registered_at"): "2026-01-05T09:30",
        (MAIN_P2, "pt_site_code"): "",
        (MAIN_P2, "dx_familial"): "yes",
        (RATING_P1_1, "alsfrs_rated_on"): "07/01/2026",
        (RATING_P1_2, "alsfrs_rated_on"): "2026-02-30",
        (RATING_P1_2, "alsfrs_q3"): "5",
        (VC_P1_1, "vc_percent_predicted"): "71,35",
        (AE_P1_2, "ae_seriousness___3"): "2",
    })  # fmt: skip
    assert _problems(export) == [
        "records.csv row 2 column pt_sex: '9' is not one of the choices of pt_sex (1, 2, 3, 4)",
        "records.csv row 2 column pt_birth_year: 1850 is beyond the minimum 1900 of pt_birth_year",
        "records.csv row 2 column pt_registered_at: '2026-01-05T09:30' is not a date and time as "
        "YYYY-MM-DD HH:MM:SS (REDCap datetime_seconds_ymd, UTC)",
        "records.csv row 7 column alsfrs_rated_on: '07/01/2026' is not a date as YYYY-MM-DD (REDCap date_ymd)",
        "records.csv row 8 column alsfrs_rated_on: '2026-02-30' is not a date as YYYY-MM-DD (REDCap date_ymd)",
        "records.csv row 8 column alsfrs_q3: '5' is not one of the choices of alsfrs_q3 (4, 3, 2, 1, 0)",
        "records.csv row 9 column vc_percent_predicted: '71,35' is not a decimal number",
        "records.csv row 22 column ae_seriousness___3: '2' is not 1 (checked) or 0 (unchecked)",
        "records.csv row 23 column pt_site_code: is empty; alscell requires patients.site_code",
        "records.csv row 23 column dx_familial: 'yes' is not 1 (yes) or 0 (no)",
    ]


def test_missing_and_unknown_columns_name_file_and_column(export: list[Path]) -> None:
    def change(rows: Rows) -> None:
        drop = rows[0].index("alsfrs_q3")
        for row in rows:
            del row[drop]
        rows[0][rows[0].index("wt_weight_kg")] = "wt_weight_lb"

    _edit(export[0], change)
    assert _problems(export) == [
        "records.csv column alsfrs_q3: is missing",
        "records.csv column wt_weight_kg: is missing",
        "records.csv column wt_weight_lb: is not in the data dictionary",
    ]


def test_rows_of_unknown_records_events_and_instruments_are_named(export: list[Path]) -> None:
    _set(export[0], {
        (RATING_P1_1, "record_id"): "P-0099",
        (VC_P1_1, "redcap_event_name"): "baseline_arm_1",
        (AE_P1_2, "redcap_repeat_instrument"): "adverse_events",
        (LAST, "redcap_repeat_instance"): "0",
    })  # fmt: skip
    assert _problems(export) == [
        "records.csv row 9 column redcap_event_name: 'baseline_arm_1' is not one of program_arm_1, product_arm_2",
        "records.csv row 22 column redcap_repeat_instrument: 'adverse_events' is not a repeating "
        "instrument of event program_arm_1 in the mapping",
        "records.csv row 31 column redcap_repeat_instance: '0' is not 1, 2, 3, ...",
        "records.csv row 7 column record_id: record 'P-0099' has no patients record "
        "(its main form is empty or missing)",
    ]


def test_a_duplicate_row_is_named_with_the_row_it_repeats(export: list[Path]) -> None:
    _edit(export[0], lambda rows: rows.append(list(rows[RATING_P1_2 - 1])))
    assert _problems(export) == [
        "records.csv row 32: repeats row 8 (record P-0001, event program_arm_1, instrument alsfrs_r, instance 2)"
    ]


def test_a_truncated_file_names_its_short_row(export: list[Path]) -> None:
    lines = export[0].read_text(encoding="utf-8").splitlines()
    cut = ",".join(lines[-1].split(",")[:20])  # the last row (a release test) has no quoted commas
    export[0].write_text("\r\n".join([*lines[:-1], cut]), encoding="utf-8")
    width = len(lines[0].split(","))
    assert _problems(export) == [
        f"records.csv row 31: has 20 of {width} fields; the file looks truncated"
    ]


def test_an_empty_file_is_named(export: list[Path]) -> None:
    export[0].write_bytes(b"")
    export[1].write_text("\r\n", encoding="utf-8")
    assert _problems(export) == ["data_dictionary.csv: is empty", "records.csv: is empty"]


def test_other_encodings_are_refused_with_the_file_named(export: list[Path]) -> None:
    text = export[0].read_text(encoding="utf-8")
    export[0].write_bytes(text.encode("latin-1"))
    export[1].write_bytes(export[1].read_text(encoding="utf-8").encode("utf-16"))
    problems = _problems(export)
    assert problems[0] == "data_dictionary.csv: is UTF-16; save it as UTF-8 (with or without a BOM)"
    offset = text.encode("latin-1").index("Zoë".encode("latin-1")) + 2
    assert problems[1:] == [
        f"records.csv: is not UTF-8 (byte 0xeb at offset {offset}); save it as UTF-8 (with or without a BOM)"
    ]


def test_a_bom_is_accepted(export: list[Path]) -> None:
    for path in export[:2]:
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert read_redcap(*export).counts()["alsfrs_ratings"] == 3


def test_cross_record_problems_name_row_and_field(export: list[Path]) -> None:
    _set(export[0], {(RATING_P1_1, "alsfrs_total"): "40", (LAST, "rt_din"): "A999926000099"})
    assert _problems(export) == [
        "records.csv row 31 (record LOT-26-001, instrument release_test, instance 2) column din "
        "(REDCap field rt_din): no product unit with DIN 'A999926000099'",
        "records.csv row 7 (record P-0001, instrument alsfrs_r, instance 1) column total "
        "(REDCap field alsfrs_total): is 40 but the items add up to 31",
    ]


def test_a_broken_dictionary_names_row_and_column(export: list[Path]) -> None:
    def change(rows: Rows) -> None:
        rows[2][3] = "slider_bar"
        rows[3][5] = "1, Female | Male"
        rows[4][10] = "yes"
        rows.append(list(rows[4]))

    _edit(export[1], change)
    copy = len(export[1].read_text(encoding="utf-8").splitlines())  # the appended row
    assert _problems(export) == [
        "data_dictionary.csv row 3 column Field Type: unknown field type 'slider_bar'",
        "data_dictionary.csv row 4 column Choices, Calculations, OR Slider Labels: choice 'Male' is not 'code, label'",
        "data_dictionary.csv row 5 column Identifier?: must be 'y' or empty, not 'yes'",
        f"data_dictionary.csv row {copy} column Identifier?: must be 'y' or empty, not 'yes'",
        f"data_dictionary.csv row {copy} column Variable / Field Name: field 'pt_sex' is defined twice",
    ]


def test_a_dictionary_with_the_wrong_header_is_refused(export: list[Path]) -> None:
    _edit(export[1], lambda rows: rows[0].remove("Field Annotation"))
    assert _problems(export) == [
        "data_dictionary.csv row 1: is not a REDCap data dictionary header (missing Field Annotation)"
    ]


def test_a_short_dictionary_row_is_named_and_later_rows_keep_their_numbers(
    export: list[Path],
) -> None:
    def change(rows: Rows) -> None:
        del rows[2][-1]
        rows[4][0] = "Pt Sex"

    _edit(export[1], change)
    assert _problems(export) == [
        "data_dictionary.csv row 3: has 17 of 18 columns",
        "data_dictionary.csv row 5 column Variable / Field Name: 'Pt Sex' must be lower-case "
        "letters, digits and underscores, starting with a letter",
    ]


def test_an_explicit_tag_in_the_mapping_is_refused_at_its_place(export: list[Path]) -> None:
    """PyYAML's constructors failed inside on ``!!bool maybe`` (KeyError) or an impossible date
    (ValueError), with no place; a mapping never needs a tag, and holds dates only as text."""
    mapping = next(path for path in export if path.suffix == ".yaml")
    lines = mapping.read_text(encoding="utf-8").splitlines(keepends=True)
    mapping.write_text("".join([*lines, "note: !!bool maybe\n"]), encoding="utf-8")

    assert _problems(export) == [
        f"mapping.yaml line {len(lines) + 1} column 7: is not valid YAML (tags (!!bool) are not allowed)"
    ]


def test_date_shaped_text_in_the_mapping_stays_text(export: list[Path]) -> None:
    mapping = next(path for path in export if path.suffix == ".yaml")
    text = mapping.read_text(encoding="utf-8")
    mapping.write_text(text + "note: 2026-02-30\n", encoding="utf-8")

    assert read_redcap(*export) == read_redcap(
        *write_redcap(sample_dataset(), mapping.parent / "again")
    )
