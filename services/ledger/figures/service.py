"""Use case of the dashboard figures: read circulation and flows, apply the formulas."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.currencies.service.registry import visible_currency
from services.ledger.figures import repository as repo
from services.ledger.figures.rules import figures
from shared.auth import Principal


async def currency_figures(
    session: AsyncSession, principal: Principal, currency: str, *, window_days: int
) -> dict[str, Any]:
    """Circulation now and at the window's start, flows over the window, and the figures
    derived from them, for a currency the caller's tenancy lets it see."""
    await visible_currency(session, principal, currency)
    end = await repo.now(session)
    start = end - timedelta(days=window_days)
    at_start = await repo.circulation(session, currency=currency, at=start)
    at_end = await repo.circulation(session, currency=currency, at=None)
    flows = await repo.window_flows(session, currency=currency, since=start)
    return {
        "currency": currency,
        "window_days": window_days,
        "window_start": start,
        "window_end": end,
        **figures(at_start=at_start, at_end=at_end, flows=flows),
    }
