"""Live grant aggregates from the funding service's events: per territory, programme,
currency and month, commitments and releases (euro cents) and payments (paying currency)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.aggregates.rules.postings import period_of
from services.diagnostics.store import live
from shared.events.catalog.funding import BudgetCommitted, BudgetReleased, PaymentPaid
from shared.events.envelope import Event

EURO = "EUR"


async def apply_budget_movement(session: AsyncSession, event: Event) -> None:
    """A commitment (or its release) on an application adds to the month of the event."""
    moved = event.data
    assert isinstance(moved, BudgetCommitted | BudgetReleased)
    field = "committed" if isinstance(moved, BudgetCommitted) else "released"
    key = (moved.territory, moved.programme_code, EURO, period_of(event.time.date()))
    await live.add_grant(session, key, **{field: moved.amount_cents})


async def apply_payment(session: AsyncSession, event: Event) -> None:
    """A paid tranche adds one payment and its amount in the paying currency."""
    paid = event.data
    assert isinstance(paid, PaymentPaid)
    key = (paid.territory, paid.programme_code, paid.currency, period_of(event.time.date()))
    await live.add_grant(session, key, payments=1, paid=paid.amount)
