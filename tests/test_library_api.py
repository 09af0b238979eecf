"""The library face: what `loader` exports, that each name is the real thing, and a run through it.

A script uses pbload as the CLI does, without click: `from loader import validate, load_settings`.
"""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

import loader
from loader import codes, errors, models, pipeline, settings
from loader.emulator import create_app
from tests.helpers import product_row, write_products

EXPORTED = {
    "__version__",
    "load",
    "validate",
    "plan",
    "export",
    "Settings",
    "load_settings",
    "RunReport",
    "SheetReport",
    "Outcome",
    "Status",
    "Issue",
    "Severity",
    "Change",
    "Action",
    "Code",
    "PbloadError",
    "SettingsError",
    "WorkbookError",
    "ResultError",
    "JournalError",
    "BusyError",
    "MailError",
    "ControlError",
    "ApiError",
    "AuthenticationError",
    "UnreachableError",
}
# Where each exported name is defined: the package hands on the very same objects.
HOMES = {
    pipeline: ("load", "validate", "plan", "export"),
    settings: ("Settings", "load_settings"),
    models: ("RunReport", "SheetReport", "Outcome", "Status", "Issue", "Severity", "Change", "Action"),
    codes: ("Code",),
}


def test_exactly_these_names_are_exported():
    assert set(loader.__all__) == EXPORTED and len(loader.__all__) == len(EXPORTED)
    assert set(dir(loader)) >= EXPORTED


def test_each_name_is_the_object_it_stands_for():
    for module, names in HOMES.items():
        for name in names:
            assert getattr(loader, name) is getattr(module, name), name
    for name in EXPORTED - {"__version__"} - {n for names in HOMES.values() for n in names}:
        error = getattr(loader, name)
        assert error is getattr(errors, name) and issubclass(error, errors.PbloadError), name
    assert loader.__version__ == "0.1.0"


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'lode'"):
        loader.lode  # noqa: B018


def _fresh(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_import_loader_and_its_report_types_import_nothing_heavy():
    modules = _fresh(
        "import json, sys, loader; loader.Issue, loader.Code, loader.PbloadError, loader.Status; "
        "print(json.dumps(sorted(sys.modules)))"
    )
    heavy = [m for m in modules if m.split(".")[0] in {"pandas", "numpy", "openpyxl", "pandera", "click"}]
    assert heavy == [] and "loader.pipeline" not in modules


def test_plan_and_export_are_the_commands_whatever_was_imported_first():
    # loader/plan.py and loader/export.py share the commands' names: the package keeps the commands
    names = _fresh(
        "import json, loader.plan, loader.export; from loader.plan import Dependencies; "
        "from loader import plan, export; import loader; "
        "print(json.dumps([plan.__module__, export.__module__, loader.plan.__name__, Dependencies.__name__]))"
    )
    assert names == ["loader.pipeline", "loader.pipeline", "plan", "Dependencies"]


@pytest.fixture
def local(tmp_path):
    """Settings for the in-process emulator, and a transport to it (a script would pass its own)."""
    emulator = create_app(None)
    given = loader.load_settings({"state_dir": tmp_path / "state", "env": "local"}, environ={})
    return given, httpx.WSGITransport(app=emulator), emulator


def test_validate_then_load_through_the_library(tmp_path, local):
    given, transport, emulator = local
    path = write_products(tmp_path / "p.xlsx", [product_row("LIB-1"), product_row("LIB-2", Description=None)])

    checked = loader.validate(path, given, transport=transport)
    assert isinstance(checked, loader.RunReport)
    assert checked.counts() == {loader.Status.VALID: 1, loader.Status.INVALID: 1}
    assert [(i.row, i.column, i.code, i.severity) for i in checked.issues] == [
        (3, "Description", loader.Code.REQUIRED, loader.Severity.ERROR)
    ]
    assert emulator.products() == []  # validate sends nothing

    loaded = loader.load(path, given, transport=transport)
    (sheet,) = loaded.sheets
    assert isinstance(sheet, loader.SheetReport)
    assert [(row, o.status) for row, o in sorted(sheet.outcomes.items())] == [
        (2, loader.Status.CREATED),
        (3, loader.Status.INVALID),
    ]
    assert isinstance(sheet.outcomes[2], loader.Outcome) and sheet.outcomes[3].error_code == "required"
    assert [p["sku"] for p in emulator.products()] == ["LIB-1"]

    planned = loader.plan(path, given, output=tmp_path / "plan.xlsx", transport=transport)
    assert planned.sheets[0].outcomes[2].status is loader.Status.UNCHANGED

    written, count = loader.export("products", given, tmp_path / "export.xlsx", transport=transport)
    assert (written, count) == (tmp_path / "export.xlsx", 1) and written.exists()


def test_a_run_that_cannot_go_on_raises_the_library_error(tmp_path, local):
    given, transport, _ = local
    with pytest.raises(loader.WorkbookError) as caught:
        loader.validate(tmp_path / "missing.xlsx", given, transport=transport)
    assert isinstance(caught.value, loader.PbloadError)
    with pytest.raises(loader.SettingsError):
        loader.load_settings({"chunk_size": 0}, environ={})
