"""What doctor found (`DoctorReport`), made from the evidence, and the lines `pbload doctor` prints.

Nothing here prints: `format_report` returns the lines and the CLI prints them.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from loader.api.retry import THROTTLE_CODES, THROTTLE_STATUSES
from loader.doctor.facts import clock_skew, error_facts, throttles, token_fields
from loader.doctor.judge import CONFIRMED, CONTRADICTED, NOT_SEEN, Verdict, judge
from loader.doctor.probe import Evidence

EXIT_OK, EXIT_CONTRADICTED = 0, 1
SKEW_WARNING_S = 60.0
THROTTLE_SIGNS = " or ".join([*map(str, sorted(THROTTLE_STATUSES)), *sorted(THROTTLE_CODES)])  # "429 or PB-…"


@dataclass(frozen=True)
class DoctorReport:
    """What doctor found: one verdict per bet, and the facts beside them."""

    verdicts: tuple[Verdict, ...]
    error_body: str
    token_fields: tuple[str, ...]
    missing_token_fields: tuple[str, ...]
    skew: tuple[float, str] | None
    latencies: tuple[float, ...]  # seconds per call
    throttled: tuple[str, ...]

    @property
    def exit_code(self) -> int:
        """1 when some bet is contradicted, else 0."""
        return EXIT_CONTRADICTED if any(v.outcome == CONTRADICTED for v in self.verdicts) else EXIT_OK


def report_of(evidence: Evidence) -> DoctorReport:
    """The report of everything PB answered."""
    names, missing = token_fields(evidence.token)
    return DoctorReport(
        judge(evidence),
        error_facts(evidence),
        names,
        missing,
        clock_skew(evidence.token),
        tuple(a.seconds for a in evidence.answers),
        throttles(evidence.answers),
    )


def format_report(report: DoctorReport) -> list[str]:
    """The lines `pbload doctor` prints: one per bet, then the facts, then the counts."""
    width = max(len(o) for o in (CONFIRMED, CONTRADICTED, NOT_SEEN))
    lines = [f"{v.bet.name:<6}  {v.outcome:<{width}}  {v.bet.choice} — {v.evidence}" for v in report.verdicts]
    lines += [
        "",
        f"Error body: {report.error_body}",
        _token_line(report),
        _skew_line(report.skew),
        _latency_line(report.latencies),
        _throttle_line(report.throttled),
        "",
        _summary(report),
    ]
    return lines


def _token_line(report: DoctorReport) -> str:
    missing = f" (missing: {', '.join(report.missing_token_fields)})" if report.missing_token_fields else ""
    return f"Token answer fields: {', '.join(report.token_fields) or 'none'}{missing}"


def _skew_line(skew: tuple[float, str] | None) -> str:
    if skew is None:
        return "Clock skew: not seen (no issuedAt and no Date header)"
    seconds, source = skew
    shown = "0.0" if abs(seconds) < 0.05 else f"{seconds:+.1f}"  # neither "+0.0" nor "-0.0"
    warning = " — set this machine's clock" if abs(seconds) > SKEW_WARNING_S else ""
    return f"Clock skew: {shown} s (PB's clock minus this machine's, from {source}){warning}"


def _latency_line(latencies: Sequence[float]) -> str:
    if not latencies:
        return "Latency: no calls"
    median, worst = statistics.median(latencies) * 1000, max(latencies) * 1000
    return f"Latency: median {median:.0f} ms, max {worst:.0f} ms over {len(latencies)} calls"


def _throttle_line(throttled: Sequence[str]) -> str:
    if not throttled:
        return "Throttling: none seen"
    calls = ", ".join(dict.fromkeys(throttled))
    return (
        f"Throttling: {len(throttled)} answer{'s' if len(throttled) > 1 else ''} throttled ({THROTTLE_SIGNS}) "
        f"on {calls}; doctor waited and asked again"
    )


def _summary(report: DoctorReport) -> str:
    counts = {o: sum(v.outcome == o for v in report.verdicts) for o in (CONFIRMED, CONTRADICTED, NOT_SEEN)}
    line = f"{counts[CONFIRMED]} confirmed, {counts[CONTRADICTED]} contradicted, {counts[NOT_SEEN]} not seen."
    if counts[CONTRADICTED]:
        line += " Each contradicted bet is a one-line change in loader/bets.py (and loader/emulator/bets.py)."
    return line
