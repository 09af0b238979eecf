"""pbload: load Excel workbooks into the Pitney Bowes Fulfillment APIs.

The library the CLI is a thin skin over::

    from pathlib import Path
    from loader import load, load_settings, Status

    report = load(Path("products.xlsx"), load_settings({"env": "sandbox"}))
    failed = [row for sheet in report.sheets for row, o in sheet.outcomes.items() if o.status is Status.FAILED]

`validate`, `plan`, `load` and `export` are the commands; `Settings` (from `load_settings`) what they
need besides the workbook; `RunReport`, `SheetReport`, `Outcome`, `Status`, `Issue`, `Severity`,
`Change` and `Code` what they return; the exceptions (`PbloadError` and below, see `loader.errors`)
what stops a run. Each name is imported when first used, so `import loader` (and the CLI's
start-up) stays cheap.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "__version__",
    # the commands
    "load",
    "validate",
    "plan",
    "export",
    # what they need besides the workbook
    "Settings",
    "load_settings",
    # what they return
    "RunReport",
    "SheetReport",
    "Outcome",
    "Status",
    "Issue",
    "Severity",
    "Change",
    "Action",
    "Code",
    # what stops a run (loader.errors)
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
]
# The module that defines each name: the commands need pandas and httpx, the rest is light.
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("load", "validate", "plan", "export"), "loader.pipeline"),
    **dict.fromkeys(("Settings", "load_settings"), "loader.settings"),
    **dict.fromkeys(
        ("RunReport", "SheetReport", "Outcome", "Status", "Issue", "Severity", "Change", "Action"),
        "loader.models",
    ),
    "Code": "loader.codes",
    **{name: "loader.errors" for name in __all__[__all__.index("PbloadError") :]},
}


def __getattr__(name: str) -> Any:
    """Import a name of the library the first time it is used."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


# `plan` and `export` are also the names of submodules (loader/plan.py, loader/export.py). Importing a
# submodule sets it as an attribute of its package, which would make `loader.plan` the function or the
# module depending on what was imported first; the package keeps the function. The modules are
# reached as `from loader.plan import ...` (through sys.modules); `import loader.plan as m` gives the function.
_SHADOWED = frozenset({"plan", "export"})


class _Library(types.ModuleType):
    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SHADOWED and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Library

if TYPE_CHECKING:
    from loader.codes import Code
    from loader.errors import (
        ApiError,
        AuthenticationError,
        BusyError,
        ControlError,
        JournalError,
        MailError,
        PbloadError,
        ResultError,
        SettingsError,
        UnreachableError,
        WorkbookError,
    )
    from loader.models import Action, Change, Issue, Outcome, RunReport, Severity, SheetReport, Status
    from loader.pipeline import export, load, plan, validate
    from loader.settings import Settings, load_settings
