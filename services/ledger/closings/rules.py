"""Pure rules of effective dates and period closings."""

from __future__ import annotations

from datetime import date, timedelta

from services.ledger.closings.errors import (
    AlreadyClosed,
    ClosingNotPast,
    EffectiveDateInFuture,
    EffectiveDateTooOld,
    PeriodClosed,
)


def check_effective_date(
    *,
    effective: date,
    today: date,
    currency: str,
    max_backdating_days: int,
    closed_through: date | None,
) -> None:
    """Refuse a date after ``today``, in a closed period, or before the backdating window."""
    if effective > today:
        raise EffectiveDateInFuture(
            f"{effective} is after today ({today}, UTC)",
            effective_date=effective.isoformat(),
            today=today.isoformat(),
        )
    if closed_through is not None and effective <= closed_through:
        raise PeriodClosed(
            f"{currency} is closed through {closed_through}: no transaction may be dated "
            f"{effective}; post a correction dated in the open period",
            currency=currency,
            effective_date=effective.isoformat(),
            closed_through=closed_through.isoformat(),
        )
    earliest = today - timedelta(days=max_backdating_days)
    if effective < earliest:
        raise EffectiveDateTooOld(
            f"{currency} accepts effective dates from {earliest} ({max_backdating_days} days "
            f"back); {effective} is older",
            currency=currency,
            effective_date=effective.isoformat(),
            earliest=earliest.isoformat(),
            max_backdating_days=max_backdating_days,
        )


def check_closing(*, through: date, today: date, latest: date | None) -> None:
    """A closing covers a past period, after the currency's latest closing."""
    if through >= today:
        raise ClosingNotPast(
            f"{through} is not before today ({today}, UTC)",
            through=through.isoformat(),
            today=today.isoformat(),
        )
    if latest is not None and through <= latest:
        raise AlreadyClosed(f"already closed through {latest}", closed_through=latest.isoformat())
