"""Protocol files: the built-in protocols load, and every way a file can be wrong is reported with its place."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from alscell.domain.protocol import Anchor, RepeatRule
from alscell.errors import InvalidInput, NotFound
from alscell.storage.protocol_files import (
    builtin_protocol_path,
    builtin_protocols,
    load_protocol,
    read_protocol,
)

PROTOCOLS = Path(__file__).parents[2] / "protocols"
SEED_ID = "als-nsc-4lp"
PUBLISHED = {  # built-in id -> first author of the design's publication (clinical.md §12)
    "nsi-566-phase1": "Glass",
    "nurown-phase3": "Cudkowicz",
    "oh-2015-it-msc": "Oh KW",
}
BUILTIN_IDS = (SEED_ID, *PUBLISHED)

# Line numbers matter: tests below edit this text and expect errors at known lines and columns.
TINY = """\
id: tiny-lp
version: "0.1.0"
title: Two lumbar punctures a week apart
duration: {min_days: 9, max_days: 14}
eligibility:
  diagnostic_system: revised_el_escorial
  diagnosis_categories: [definite]
phases:
  - id: treatment
    name: Treatment
    activities:
      - id: exam
        kind: examination
        name: Examination
        day: 0
        window_days: 1
      - id: lp
        kind: lumbar_puncture_implantation
        name: Lumbar puncture
        day: 1
        window_days: 1
        min_interval_days: 6
        repeat: {rule: every_n_days, every_days: 7, count: 2}
        records: [cell_product_unit]
follow_up:
  anchor_activity: lp
  visits:
    - {id: month-1, name: Month 1, months: 1, window_days: 7}
product:
  name: Test cells
  source: autologous
  cell_type: mesenchymal stromal cells
  route: intrathecal
  dose: {cells: 5000000}
analysis_plan:
  version: "1.0"
  primary_outcome: alsfrs_r_total_change
  time_point_months: 6
  anchor_activity: lp
  improved_min_change: 1
  worsened_max_change: -1
  comparator: natural_history
"""

# Independent mistakes, one per place (the line of each is noted for a reader of the messages).
EVERYTHING_WRONG = """\
id: tiny-lp
version: "0.1.0"
title: Everything wrong at once
duration: {min_days: 9, max_days: 14}
eligibility:
  diagnostic_system: revised_el_escorial
  diagnosis_categories: [definite]
phases:
  - id: treatment
    name: Treatment
    activities:
      - id: exam
        kind: examination
        name: Examination
        day: 0
        window_days: -1
      - id: lp
        kind: lumbar_puncture_implantation
        name: Lumbar puncture
        day: 1
        min_interval_days: 8
        repeat: {rule: every_n_days, every_days: 7, count: 2}
        records: [cell_product_unit]
      - id: rehab
        kind: physiotherapy
        name: Rehabilitation
        day: 2
      - id: labs
        kind: lab_panel
        name: Labs
        day: 3
        duration_minute: 20
      - id: exam
        kind: assessment
        name: A second activity with the first one's id
        day: 4
follow_up:
  anchor_activity: implantation
  visits:
    - {id: month-1, name: Month 1, months: 1, window_days: 7}
product:
  name: Test cells
  source: autologous
  cell_type: mesenchymal stromal cells
  route: intrathecal
  dose: {cells: 5e6}
analysis_plan:
  version: "1.0"
  primary_outcome: alsfrs_r_total_change
  time_point_months: 6
  anchor_activity: lp
  improved_min_change: 1
  worsened_max_change: -1
  comparator: natural_history
"""
FIELD_PROBLEMS = {
    "phases[0].activities[0].window_days": "must be >= 0, got -1",
    "phases[0].activities[1].min_interval_days": "must be <= repeat.every_days (7), got 8",
    "phases[0].activities[2].kind": "got 'physiotherapy'",
    "phases[0].activities[3].duration_minute": "unknown field; did you mean 'duration_minutes'?",
    "product.dose.cells": "must be a number, got str '5e6' (write numbers like 5000000 or 5.0e+6)",
}
PROTOCOL_PROBLEMS = {
    "phases[0].activities[4].id": "duplicate id 'exam' (also at phases[0].activities[0].id)",
    "follow_up.anchor_activity": "no activity 'implantation' in the phases",
}  # whole-protocol checks, shown once the field problems above are fixed


def edited(old: str, new: str) -> str:
    """TINY with one exact piece of text replaced (which must occur once)."""
    assert TINY.count(old) == 1, old
    return TINY.replace(old, new)


def problems_of(text: str) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        load_protocol(text, source="test.yaml")
    return {problem.location: problem.message for problem in caught.value.problems}


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {path.name: (path.read_bytes(), path.stat().st_mtime_ns) for path in folder.iterdir()}


# ---------------------------------------------------------------- built-in protocols


def test_there_are_at_least_four_builtins_including_the_seed_and_three_published_designs():
    found = builtin_protocols()

    assert len(found) >= 4
    assert set(BUILTIN_IDS) <= set(found)


def test_builtins_are_listed_in_file_name_order():
    assert list(builtin_protocols()) == sorted(builtin_protocols())


def test_every_builtin_loads_and_its_id_is_its_file_stem():
    for stem, path in builtin_protocols().items():  # every file, including ones added later
        assert read_protocol(path).id == stem == path.stem


@pytest.mark.parametrize("protocol_id", BUILTIN_IDS)
def test_builtin_path_is_the_file_in_protocols(protocol_id):
    path = builtin_protocol_path(protocol_id)

    assert path.name == f"{protocol_id}.yaml"
    assert path.read_bytes() == (PROTOCOLS / f"{protocol_id}.yaml").read_bytes()


def test_the_default_builtin_is_the_seed():
    assert builtin_protocol_path().name == "als-nsc-4lp.yaml"


@pytest.mark.parametrize("protocol_id", BUILTIN_IDS)
def test_builtins_are_version_stamped(protocol_id):
    protocol = read_protocol(builtin_protocol_path(protocol_id))

    assert protocol.version == "1.0.0"
    assert protocol.analysis_plan.version == "1.0"


@pytest.mark.parametrize(("protocol_id", "author"), PUBLISHED.items())
def test_published_designs_cite_their_source(protocol_id, author):
    source = read_protocol(builtin_protocol_path(protocol_id)).source

    assert source is not None
    assert author in source


def test_the_seed_file_says_what_the_clinic_described():
    # Four lumbar-puncture implantations 7 days apart from day 10, beds day 0-38, 5-7 weeks,
    # follow-up 1, 3 and 6 months after the last implantation.
    seed = read_protocol(builtin_protocol_path(SEED_ID))
    implantation = seed.activity("implantation")

    assert implantation.cell_dose
    assert (implantation.day, implantation.window_days, implantation.min_interval_days) == (
        10,
        1,
        6,
    )
    assert implantation.repeat.rule is RepeatRule.EVERY_N_DAYS
    assert (implantation.repeat.every_days, implantation.repeat.count) == (7, 4)
    assert seed.planned_days == 39
    assert (seed.duration.min_days, seed.duration.max_days) == (35, 49)
    assert seed.follow_up.anchor_activity == "implantation"
    assert seed.follow_up.anchor is Anchor.LAST
    assert [visit.months for visit in seed.follow_up.visits] == [1.0, 3.0, 6.0]
    assert seed.product is not None
    assert seed.product.dose.cells == 5_000_000


def test_unknown_builtin_id_is_not_found():
    with pytest.raises(NotFound) as caught:
        builtin_protocol_path("no-such-protocol")

    assert (caught.value.kind, caught.value.record_id) == ("built-in protocol", "no-such-protocol")


def test_reading_the_builtins_writes_nothing():
    before = snapshot(PROTOCOLS)

    for path in builtin_protocols().values():
        read_protocol(path)

    assert snapshot(PROTOCOLS) == before


# ---------------------------------------------------------------- reading a file


def test_a_valid_file_loads(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")

    protocol = read_protocol(path)

    assert (protocol.id, protocol.version, protocol.planned_days) == ("tiny-lp", "0.1.0", 9)


def test_a_file_with_a_byte_order_mark_loads(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8-sig")  # as some Windows editors save

    assert read_protocol(path).id == "tiny-lp"


@pytest.mark.parametrize("content", [TINY, EVERYTHING_WRONG])
def test_reading_a_file_writes_nothing(tmp_path, content):
    path = tmp_path / "protocol.yaml"
    path.write_text(content, encoding="utf-8")
    before = snapshot(tmp_path)

    with contextlib.suppress(InvalidInput):  # the invalid file is read too
        read_protocol(path)

    assert snapshot(tmp_path) == before


def test_a_missing_file_is_not_found(tmp_path):
    path = tmp_path / "absent.yaml"

    with pytest.raises(NotFound) as caught:
        read_protocol(path)

    assert (caught.value.kind, caught.value.record_id) == ("protocol file", str(path))


def test_a_folder_is_not_a_protocol_file(tmp_path):
    with pytest.raises(NotFound):
        read_protocol(tmp_path)


def test_a_file_that_is_not_utf8_is_refused_by_name(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(TINY.replace("Examination", "Examen clinique détaillé").encode("latin-1"))

    with pytest.raises(InvalidInput) as caught:
        read_protocol(path)

    assert [str(p) for p in caught.value.problems] == ["latin1.yaml: not UTF-8 text"]


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"#" * 1_000_001)

    with pytest.raises(InvalidInput) as caught:
        read_protocol(path)

    [problem] = caught.value.problems
    assert problem.location == "huge.yaml"
    assert problem.message.startswith("larger than 1,000,000 bytes")


def test_a_file_of_exactly_the_size_limit_is_read(tmp_path):
    path = tmp_path / "comment.yaml"
    path.write_bytes(b"#" * 1_000_000)  # one long YAML comment: an empty document

    with pytest.raises(InvalidInput) as caught:
        read_protocol(path)

    assert [str(p) for p in caught.value.problems] == [
        "(top level): must be a mapping of fields, got NoneType None"
    ]


def test_errors_from_a_file_name_the_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("- a list\n", encoding="utf-8")

    with pytest.raises(InvalidInput) as caught:
        read_protocol(path)

    assert caught.value.subject == "protocol file broken.yaml"
    assert str(caught.value).startswith("invalid protocol file broken.yaml (1 problem)")


# ---------------------------------------------------------------- YAML problems


@pytest.mark.parametrize(
    ("old", "new", "key", "line", "column"),
    [('version: "0.1.0"\n', 'version: "0.1.0"\nversion: "0.2.0"\n', "version", 3, 1),
     ("        day: 1\n", "        day: 1\n        day: 8\n", "day", 21, 9),
     ("{min_days: 9, max_days: 14}", "{min_days: 9, min_days: 14}", "min_days", 4, 25)],
    ids=["top-level", "in-an-activity", "in-a-flow-mapping"],
)  # fmt: skip
def test_a_duplicate_key_is_refused_with_its_line(old, new, key, line, column):
    assert problems_of(edited(old, new)) == {
        f"test.yaml, line {line}, column {column}": f"key {key!r} appears twice in the same mapping"
    }


@pytest.mark.parametrize(
    ("old", "new", "where", "message"),
    [("title: Two lumbar punctures a", "title: Two lumbar punctures: a", "line 3, column 28",
      "mapping values are not allowed here"),
     ("    name: Treatment\n", "\tname: Treatment\n", "line 10, column 1",
      "found character '\\t' that cannot start any token")],
    ids=["colon-in-plain-text", "tab-indent"],
)  # fmt: skip
def test_a_syntax_error_names_line_and_column(old, new, where, message):
    assert problems_of(edited(old, new)) == {f"test.yaml, {where}": message}


def test_an_unclosed_list_is_reported_where_the_text_ends():
    assert problems_of("id: tiny\nphases: [\n") == {
        "test.yaml, line 3, column 1": "expected the node content, but found '<stream end>'"
    }


def test_a_control_character_is_refused():
    [(location, message)] = problems_of(TINY.replace("Examination", "Exam\x07ination", 1)).items()

    assert location == "test.yaml, line 14, column 19"  # line 14: "        name: Exam\x07ination"
    assert message.startswith("character U+0007 is not allowed in YAML")


def test_python_object_tags_are_not_constructed():
    text = edited("title: Two", "title: !!python/object/apply:os.getcwd []\nsource: Two")

    assert problems_of(text) == {
        "test.yaml, line 3, column 8": "tags (!!python/object/apply:os.getcwd) are not allowed "
        "here: write the plain value"
    }


@pytest.mark.parametrize(
    ("value", "tag"),
    [("!!float x", "!!float"), ("!!int x", "!!int"), ("!!bool maybe", "!!bool"),
     ("!!timestamp x", "!!timestamp"), ("!!str [1]", "!!str"), ("!local x", "!local")],
)  # fmt: skip
def test_an_explicit_tag_is_refused_at_its_place_not_a_crash(value, tag):
    """PyYAML's own constructors fail on these with ValueError, KeyError or AttributeError: a 500 on
    the protocol page before (found by the hostile-forms run)."""
    text = edited("title: Two", f"title: {value}\nsource: Two")

    assert problems_of(text) == {
        "test.yaml, line 3, column 8": f"tags ({tag}) are not allowed here: write the plain value"
    }


@pytest.mark.parametrize(
    ("value", "rule"),
    [("2026-02-30", "day is out of range for month"), ("2026-13-01", "month must be in 1..12"),
     ("2026-01-05 24:00:00", "hour must be in 0..23")],
)  # fmt: skip
def test_a_date_that_does_not_exist_is_refused_at_its_place(value, rule):
    assert problems_of(edited("title: Two", f"title: {value}\nsource: Two")) == {
        "test.yaml, line 3, column 8": f"{value} is not a real date or time ({rule})"
    }


def test_a_list_used_as_a_key_is_an_invalid_input_not_a_crash():
    [location] = problems_of("? [a, b]\n: 1\n")

    assert location.startswith("test.yaml, line 1, column ")


# ---------------------------------------------------------------- schema problems


@pytest.mark.parametrize(
    ("text", "expected"),
    [("- id: tiny-lp\n- version: 1\n", "must be a mapping of fields, got list"),
     ("just some words\n", "must be a mapping of fields, got str 'just some words'"),
     ("", "must be a mapping of fields, got NoneType None")],
    ids=["list", "text", "empty"],
)  # fmt: skip
def test_the_top_level_must_be_a_mapping(text, expected):
    assert problems_of(text) == {"(top level)": expected}


def test_a_missing_version_is_refused():
    assert problems_of(edited('version: "0.1.0"\n', "")) == {"version": "required field is missing"}


def test_an_unquoted_version_number_is_refused_not_converted():
    assert problems_of(edited('version: "0.1.0"', "version: 1.0")) == {
        "version": "must be non-empty text, got float 1.0"
    }


def test_every_field_problem_is_listed_at_once_with_its_path():
    found = problems_of(EVERYTHING_WRONG)

    for location, message in FIELD_PROBLEMS.items():
        assert location in found, found
        assert message in found[location]
    assert not set(PROTOCOL_PROBLEMS) & set(found)  # documented: whole-protocol checks come second


def test_whole_protocol_problems_are_listed_at_once_when_the_fields_are_valid():
    text = edited("      - id: lp\n", "      - id: exam\n").replace(
        "{min_days: 9, max_days: 14}", "{min_days: 20, max_days: 30}"
    )

    assert problems_of(text) == {
        "phases[0].activities[1].id": "duplicate id 'exam' (also at phases[0].activities[0].id)",
        "follow_up.anchor_activity": "no activity 'lp' in the phases",
        "analysis_plan.anchor_activity": "no activity 'lp'; use an activity id or start",
        "duration.min_days": "the activities as planned take 9 days, fewer than 20",
    }


def alias_bomb(levels: int) -> str:
    """A few hundred bytes of YAML whose aliases expand to 10 ** levels words in records."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels)]
    lines.append(
        "phases: [{id: p, name: P, activities: "
        f"[{{id: a, kind: examination, name: A, day: 0, records: *a{levels - 1}}}]}}]"
    )
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_does_not_blow_up_the_error_message():
    text = alias_bomb(5)
    assert len(text) < 400

    with pytest.raises(InvalidInput) as caught:
        load_protocol(text, source="bomb.yaml")

    assert len(str(caught.value)) < 20_000
    assert "aliases (*name) are not allowed" in str(caught.value)
