"""Status chains that the fulfillment centre moves an object along (work orders, returns), as data.

A client cannot set a status through the API; the facility does. The emulator stands in for the
facility with ``advance`` on each such resource (see the README), which this module's `Lifecycle`
checks: moves go forward along the chain (skipping steps is allowed), or to the cancel status from
the statuses that allow it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import errors
from .errors import ErrorDetail, HttpError, bad_request, detail


@dataclass(frozen=True)
class Lifecycle:
    """``chain`` in forward order (the first is the status on create), and an optional cancel exit."""

    chain: tuple[str, ...]
    cancel: str | None = None
    cancel_from: tuple[str, ...] = ()

    @property
    def initial(self) -> str:
        """The status of a new object."""
        return self.chain[0]

    @property
    def statuses(self) -> tuple[str, ...]:
        """Every status an object can have."""
        return self.chain + ((self.cancel,) if self.cancel else ())

    def check_move(self, noun: str, current: str, target: str) -> None:
        """Raise 400 unless an object in ``current`` may move to ``target``."""
        if target not in self.statuses:
            allowed = ", ".join(self.statuses)
            raise bad_request(
                errors.NOT_ALLOWED, f"status must be one of {allowed}", "status", f"Given: {target}"
            )
        if not self._allowed(current, target):
            raise HttpError(400, [state_error(f"{noun} is {current} and cannot move to {target}")])

    def _allowed(self, current: str, target: str) -> bool:
        if target == self.cancel:
            return current in self.cancel_from
        return current in self.chain and self.chain.index(target) > self.chain.index(current)

    def reaches(self, current: str, target: str, milestone: str) -> bool:
        """Tell whether moving from ``current`` to ``target`` lands on or passes ``milestone``."""
        if current not in self.chain or target not in self.chain:
            return False
        return self.chain.index(current) < self.chain.index(milestone) <= self.chain.index(target)


def state_error(description: str) -> ErrorDetail:
    """Return the error for an operation the object's status forbids (api §21.2)."""
    return detail(errors.BAD_STATE, description, "status")


def require_status(noun: str, record: dict[str, Any], allowed: tuple[str, ...], action: str) -> None:
    """Raise 400 unless the record's status is one of ``allowed`` for ``action`` ("updated"...)."""
    status = record.get("status")
    if status not in allowed:
        only = " or ".join(allowed)
        raise HttpError(400, [state_error(f"{noun} is {status}; it can be {action} only while {only}")])
