"""Live grant aggregates from the funding service's events: per territory, programme,
currency and month, commitments and releases (euro cents) and payments (paying currency);
and the latest instruments' figures (loans, guarantees) of each département, summed up to
the région."""

from __future__ import annotations

from datetime import date
from typing import Any, Unpack

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.aggregates.rules.postings import period_of
from services.diagnostics.grants import repository, rules
from services.diagnostics.grants.repository import GrantFilters, GrantKey
from services.diagnostics.territories import service as territories
from shared.auth import Principal
from shared.events.catalog.funding import (
    BudgetCommitted,
    BudgetReleased,
    InstrumentFigures,
    PaymentPaid,
)
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


async def apply_instrument_figures(session: AsyncSession, event: Event) -> None:
    """Keep a département's instruments' figures, the latest event's (the inbox applies
    each event once; the event time orders redeliveries)."""
    figures = event.data
    assert isinstance(figures, InstrumentFigures)
    await repository.save_figures(
        session,
        {
            "territory": figures.territory,
            "as_of": date.fromisoformat(figures.as_of),
            **{name: getattr(figures, name) for name in (*rules.AMOUNTS, "losses_cents")},
            "event_time": event.time,
        },
    )


async def instruments_of(session: AsyncSession, code: str) -> dict[str, Any]:
    """The instruments' figures of a territory the caller already may read: a
    département's own, a région's summed over its départements (the figures exist per
    département only, so a smaller territory has none)."""
    members = [code, *await territories.children(session, code)]
    rows = await repository.figures_of(session, members)
    return rules.summed(
        code,
        [
            rules.Figures(
                territory=r.territory,
                as_of=r.as_of,
                **{name: getattr(r, name) for name in (*rules.AMOUNTS, "losses_cents")},
            )
            for r in rows
        ],
    )


async def instruments(session: AsyncSession, principal: Principal, code: str) -> dict[str, Any]:
    """The instruments' figures of a territory the client is bound to (403 before 404)."""
    territory = await territories.get_readable(session, principal, code)
    return {**await instruments_of(session, code), "level": territory.level}
