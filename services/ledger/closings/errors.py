"""Refusals of effective dates and of period closings."""

from __future__ import annotations

from typing import ClassVar

from services.ledger.errors import LedgerDomainError


class EffectiveDateInFuture(LedgerDomainError):
    """A transaction is dated after today (UTC)."""

    code, title = "effective-date-in-future", "The effective date is in the future"


class EffectiveDateTooOld(LedgerDomainError):
    """A transaction is dated further back than its currency's ``max_backdating_days``."""

    code, title = "effective-date-too-old", "The effective date is outside the backdating window"


class PeriodClosed(LedgerDomainError):
    """A transaction is dated on or before the latest closing of a currency it touches."""

    code, title = "period-closed", "The effective date lies in a closed period"


class ClosingNotPast(LedgerDomainError):
    """A period is closed once it is over: ``through`` must be before today (UTC)."""

    code, title = "closing-not-past", "Only a past period can be closed"


class AlreadyClosed(LedgerDomainError):
    """The currency is already closed through that date or a later one."""

    status: ClassVar[int] = 409
    code, title = "period-already-closed", "The period is already closed"
