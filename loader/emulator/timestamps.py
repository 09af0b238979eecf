"""The emulator's clock and the one timestamp format it writes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], float]  # epoch seconds, like time.time; injectable so tests can move time


def pb_timestamp(epoch: float) -> str:
    """Format a PB-side time (``pbCreateDate``...) as ISO 8601 UTC, e.g. ``2024-05-01T12:00:00.000+0000``.

    ASSUMPTION: the docs only say "ISO 8601"; we reuse the Products format so one parser reads both.
    """
    # isoformat truncates to the millisecond as strftime plus microsecond // 1000 did, without the locale calls
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")[:-6] + "+0000"


def parse_instant(text: object, end_of_day: bool = False) -> datetime | None:
    """Read an ISO 8601 date or date-time (no zone means UTC); None if it is not one.

    A bare date stands for its first moment, or its last with ``end_of_day`` (an inclusive "to").
    """
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if end_of_day and len(text) == len("YYYY-MM-DD"):
        moment += timedelta(days=1, microseconds=-1)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
