"""Every command is documented in the README, and every command has help."""

from __future__ import annotations

import click
import pytest

from loader.cli import main
from tests.helpers import REPO
from tests.tools.readme_columns import tables


def commands(group: click.Group, prefix: str = "pbload") -> list[str]:
    names = []
    for name, command in sorted(group.commands.items()):
        names.append(f"{prefix} {name}")
        if isinstance(command, click.Group):
            names += commands(command, f"{prefix} {name}")
    return names


@pytest.mark.parametrize("command", commands(main))
def test_command_is_in_the_readme(command):
    assert command in (REPO / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", commands(main))
def test_command_has_help(cli, command):
    result = cli(*command.split()[1:], "--help")
    assert result.exit_code == 0
    assert "Usage: " in result.output


def test_the_readme_column_tables_follow_the_catalogue():
    # python -m tests.tools.readme_columns rewrites them
    assert tables() in (REPO / "README.md").read_text(encoding="utf-8")
