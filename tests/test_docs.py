"""Documentation completeness: every setting, command and scale item is documented."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer

from alscell.cli import app
from alscell.config import Settings
from alscell.domain import alsfrs

ROOT = Path(__file__).parents[1]


def read(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def test_every_setting_is_documented_with_its_variable():
    page = read("docs/configuration.md")

    for name in Settings.model_fields:
        assert f"`{name}`" in page, name
        assert f"`ALSCELL_{name.upper()}`" in page, name


def command_paths(group: Any, prefix: tuple[str, ...] = ()) -> list[str]:
    paths = []
    for name, command in getattr(group, "commands", {}).items():
        path = (*prefix, name)
        paths.append(" ".join(path))
        paths.extend(command_paths(command, path))
    return paths


def test_every_command_has_a_section_in_the_cli_reference():
    group = typer.main.get_command(app)
    documented = set(re.findall(r"^## `alscell ?(.*)`$", read("docs/cli.md"), flags=re.MULTILINE))

    assert documented == {"", *command_paths(group)}


def test_every_alsfrs_item_is_in_the_scale_catalogue():
    page = read("docs/scales.md")

    for item in alsfrs.ITEMS:
        assert f"| {item.number} | `{item.key}` |" in page, item.key


def test_readme_names_the_two_commands():
    readme = read("README.md")

    assert "make demo" in readme
    assert "make test" in readme


def test_ci_runs_the_readme_test_command_only():
    lines = [line for line in read(".ci/run").splitlines() if line and not line.startswith("#")]

    assert lines[-1] == "exec make test"
