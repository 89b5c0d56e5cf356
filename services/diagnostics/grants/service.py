"""Live grant aggregates from the funding service's events: per territory, programme,
currency and month, commitments and releases (euro cents) and payments (paying currency)."""

from __future__ import annotations

from typing import Any, Unpack

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.aggregates.rules.postings import period_of
from services.diagnostics.grants import repository
from services.diagnostics.grants.repository import GrantFilters, GrantKey
from shared.auth import Principal
from shared.events.catalog.funding import BudgetCommitted, BudgetReleased, PaymentPaid
from shared.events.envelope import Event

EURO = "EUR"


async def apply_budget_movement(session: AsyncSession, event: Event) -> None:
    """A commitment (or its release) on an application adds to the month of the event."""
    moved = event.data
    assert isinstance(moved, BudgetCommitted | BudgetReleased)
    field = "committed" if isinstance(moved, BudgetCommitted) else "released"
    key = (moved.territory, moved.programme_code, EURO, period_of(event.time.date()))
    await repository.add(session, key, **{field: moved.amount_cents})


async def apply_payment(session: AsyncSession, event: Event) -> None:
    """A paid tranche adds one payment and its amount in the paying currency."""
    paid = event.data
    assert isinstance(paid, PaymentPaid)
    key = (paid.territory, paid.programme_code, paid.currency, period_of(event.time.date()))
    await repository.add(session, key, payments=1, paid=paid.amount)


async def list_grants(
    session: AsyncSession,
    principal: Principal,
    *,
    after: GrantKey | None,
    limit: int,
    **filters: Unpack[GrantFilters],
) -> list[dict[str, Any]]:
    """A page of grant aggregates the client may read, with the net commitment of each."""
    rows = await repository.list_readable(session, principal, after=after, limit=limit, **filters)
    return [
        {
            "territory": r.territory,
            "programme": r.programme,
            "currency": r.currency,
            "period": r.period,
            "committed": r.committed,
            "released": r.released,
            "net_committed": r.committed - r.released,
            "payments": r.payments,
            "paid": r.paid,
            "updated_at": r.updated_at,
        }
        for r in rows
    ]
