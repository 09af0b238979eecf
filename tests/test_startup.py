"""Start-up: `pbload --help` and `--version` import click and light modules only, and print what they always did.

A guard of the import list, not a timing (tests/benchmarks/bench_startup.py prints the figures): each
check runs in a fresh interpreter, since this test process has long imported everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from loader import choices

GOLDEN = Path(__file__).parent / "golden" / "startup"
UPDATE_GOLDEN = os.environ.get("PBLOAD_UPDATE_GOLDEN") == "1"  # rewrite the golden files from today's output
# What only a command that runs may import: the workbook, validation, HTTP, e-mail and emulator stacks.
HEAVY = (
    "pandas",
    "pandera",
    "numpy",
    "openpyxl",
    "httpx",
    "python_calamine",
    "jinja2",
    "rich",
    "loader.pipeline",
    "loader.emulator",
    "loader.notify",
)
# Runs pbload ARGS as the console script does, with a fixed width so that help wraps the same everywhere.
PBLOAD = "import sys; from loader.cli import main; main(sys.argv[1:], prog_name='pbload')"


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "80"}
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=60
    )


def _heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(f"{h}.") for h in HEAVY)]


def test_importing_the_cli_imports_nothing_heavy():
    done = _python("import loader.cli, sys; print(sorted(sys.modules))")
    assert done.returncode == 0, done.stderr
    assert _heavy(eval(done.stdout)) == []


def test_every_help_and_the_version_import_nothing_heavy():
    # Every command's --help and --version in one interpreter; then the modules they left loaded.
    code = """if True:
        import contextlib, io, json, sys
        from loader.cli import main
        def paths(group, path=()):
            for name, command in group.commands.items():
                yield (*path, name)
                yield from paths(command, (*path, name)) if hasattr(command, "commands") else ()
        for args in [["--help"], ["--version"], *([*p, "--help"] for p in paths(main))]:
            with contextlib.redirect_stdout(io.StringIO()):
                main(args, prog_name="pbload", standalone_mode=False)
        print(json.dumps(sorted(sys.modules)))
    """
    done = _python(code)
    assert done.returncode == 0, done.stderr
    assert _heavy(json.loads(done.stdout)) == []


@pytest.mark.parametrize(
    "args,name",
    [(["--help"], "help"), (["load", "--help"], "load-help"), (["--version"], "version")],
    ids=["--help", "load --help", "--version"],
)
def test_help_and_version_print_what_they_did(args: list[str], name: str):
    done = _python(PBLOAD, *args)
    golden = GOLDEN / f"{name}.txt"
    if UPDATE_GOLDEN:
        golden.write_text(done.stdout, encoding="utf-8")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == golden.read_text(encoding="utf-8"), (
        f"{golden.name} differs (PBLOAD_UPDATE_GOLDEN=1)"
    )


def test_the_light_names_agree_with_the_modules_they_copy():
    from loader import settings
    from loader.emulator import control

    assert choices.ENVIRONMENTS == settings.ENVIRONMENTS
    assert (choices.LOCAL_CLIENT_ID, choices.LOCAL_API_KEY, choices.LOCAL_API_SECRET) == (
        settings.LOCAL_CLIENT_ID,
        settings.LOCAL_API_KEY,
        settings.LOCAL_API_SECRET,
    )
    assert sorted(choices.ADVANCE_RESOURCES) == sorted(control.ADVANCE_NAMES)


def test_the_hints_for_pbs_codes_import_no_http_client():
    # The result writer gives every FAILED row the hint of its PB code; a process that writes a result
    # without having sent anything (validate, the writer's benchmark) must not import httpx for it.
    code = """if True:
        import json, sys
        from loader.codes import hint_for
        codes = ["PB-APIM-ERR-1006", "PB-APIM-ERR-1002", "PB-APIM-ERR-1099", "HTTP-503", "PB-4001", None]
        print(json.dumps([[hint_for(c, True) for c in codes], hint_for("PB-4001"), "httpx" in sys.modules]))
    """
    done = _python(code)
    assert done.returncode == 0, done.stderr
    hints, unchecked, imported = json.loads(done.stdout)
    from loader import codes

    assert hints == [
        codes.THROTTLE_HINT,
        codes.TOKEN_HINT,
        codes.GATEWAY_HINT,
        codes.SERVER_FAILURE_HINT,
        codes.API_FAILURE_HINT,
        codes.API_FAILURE_HINT,
    ]
    assert unchecked == codes.UNKNOWN_HINT
    assert not imported
