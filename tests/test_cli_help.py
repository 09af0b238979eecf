"""Help that teaches: every command has examples, every option read from the environment names its variable."""

from __future__ import annotations

from dataclasses import fields

import click
import pytest

from loader.cli import main
from loader.settings import Settings

# Options whose value load_settings also takes from PBLOAD_<NAME> (credentials never come from flags).
ENV_BACKED = {f.name for f in fields(Settings)} - {"client_id", "api_key", "api_secret"}


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        found.append(((*path, name), command))
        if isinstance(command, click.Group):
            found += _commands(command, (*path, name))
    return found


COMMANDS = _commands(main)


@pytest.mark.parametrize("path", [(), *(p for p, _ in COMMANDS)], ids=lambda p: " ".join(p) or "pbload")
def test_every_help_has_an_example(cli, path):
    result = cli(*path, "--help")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    start = lines.index("  Examples:")
    examples = [line for line in lines[start + 1 :] if line.startswith("    pbload ")]
    assert examples, result.output
    assert all(line.startswith(f"    pbload {' '.join(path)}".rstrip()) for line in examples) or not path


@pytest.mark.parametrize("path,command", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_option_from_the_environment_names_its_variable(path, command):
    for param in command.params:
        if isinstance(param, click.Option) and param.name in ENV_BACKED:
            assert f"PBLOAD_{param.name.upper()}" in (param.help or ""), (path, param.name)


@pytest.mark.parametrize("path,command", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_debug_is_taken_after_every_command(path, command):
    assert any("--debug" in p.opts for p in command.params), path


def test_choice_arguments_have_a_name(cli):
    assert "export [OPTIONS] WHAT\n" in cli("export", "--help").output
    assert "advance [OPTIONS] RESOURCE KEY STATUS\n" in cli("emulator", "advance", "--help").output
    refused = cli("export", "customers")
    assert refused.exit_code == 2
    assert "Invalid value for 'WHAT': 'customers' is not one of" in refused.output


def test_debug_after_the_command_shows_the_traceback(cli, tmp_path):
    result = cli("validate", tmp_path / "missing.xlsx", "--offline", "--debug")
    assert result.exit_code == 2
    assert "Traceback (most recent call last)" in result.stderr
