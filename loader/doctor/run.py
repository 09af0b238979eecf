"""`run_doctor`: the one library call behind `pbload doctor`, probing an account and judging every bet."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from loader.doctor.guard import new_probe_key
from loader.doctor.probe import Prober, collect
from loader.doctor.report import DoctorReport, report_of
from loader.errors import SettingsError
from loader.settings import Settings


def require_account(settings: Settings) -> None:
    """Refuse the built-in emulator: doctor is about an account on a server."""
    if settings.uses_builtin_emulator:
        raise SettingsError(
            "pbload doctor examines a real account, and no credentials are set. Set PB_CLIENT_ID, "
            "PB_API_KEY and PB_API_SECRET and run `pbload doctor --env sandbox`, or give "
            "--base-url of a `pbload emulator serve`."
        )


def run_doctor(
    settings: Settings,
    transport: httpx.BaseTransport | None = None,
    *,
    probe_key: str | None = None,
    clock: Callable[[], float] = time.perf_counter,
    wall: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> DoctorReport:
    """Make doctor's read-only calls against `settings`' account and judge every bet."""
    require_account(settings)
    with Prober(settings, transport, clock=clock, wall=wall, sleep=sleep) as prober:
        evidence = collect(prober, probe_key or new_probe_key())
    return report_of(evidence)
