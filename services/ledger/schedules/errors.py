"""Refusals of schedules."""

from __future__ import annotations

from typing import ClassVar

from services.ledger.errors import LedgerDomainError


class InvalidSchedule(LedgerDomainError):
    """A schedule's cadence, time or parameters do not fit its operation."""

    code, title = "invalid-schedule", "Invalid schedule"


class UnknownSchedule(LedgerDomainError):
    """The currency has no schedule for that operation."""

    status: ClassVar[int] = 404
    code, title = "unknown-schedule", "No such schedule"
