"""Live currency aggregates fed by the ledger's posted transactions.

A currency's live figures are read only by clients bound to it (``tenants.currencies``) as
well as to the territory: a named currency outside the binding is a 403, lists leave out
the currencies outside it (a client bound to none sees none)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.diagnostics.aggregates.rules.postings import Counters, month_bounds
from services.diagnostics.api.common import (
    Cursor,
    Limit,
    Reader,
    decode_cursor,
    errors,
    next_cursor,
)
from services.diagnostics.api.schemas import (
    AggregatePage,
    AggregateRead,
    CirculationRead,
)
from services.diagnostics.errors import InvalidInput, UndefinedIndicator
from services.diagnostics.service.analysis import year_circulation
from services.diagnostics.service.errors import InvalidCursor
from services.diagnostics.store import live
from shared.service_app import DbSession

router = APIRouter(tags=["aggregates"])

Period = Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="ISO month")]
TerritoryFilter = Annotated[str, Query(min_length=2, max_length=9, pattern=r"^[0-9AB]+$")]
CurrencyFilter = Annotated[str, Query(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]


@router.get("/aggregates", response_model=AggregatePage, responses=errors(InvalidCursor))
async def list_aggregates(
    session: DbSession,
    principal: Reader,
    territory: TerritoryFilter | None = None,
    currency: CurrencyFilter | None = None,
    period: Period | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> AggregatePage:
    """Per territory, currency and month: volume, transactions, issuance, reconversion,
    payments inside and outside the territory (minor units), and their shares; only the
    territories and currencies this client is bound to."""
    if territory is not None:
        principal.ensure_access("territories", territory)
    if currency is not None:
        principal.ensure_access("currencies", currency)
    after = decode_cursor(cursor, lambda raw: (str(raw[0]), str(raw[1]), str(raw[2])))
    rows = await live.list_aggregates(
        session,
        after=after,
        limit=limit,
        territory=territory,
        currency=currency,
        period=period,
        territories=principal.visible("territories"),
        currencies=principal.visible("currencies"),
    )
    active = await live.active_account_counts(
        session, [(r.territory, r.currency, r.period) for r in rows]
    )
    items = []
    for r in rows:
        c = Counters(
            r.transactions,
            r.issued,
            r.received_from_outside,
            r.spent_locally,
            r.spent_outside,
            r.reconverted,
        )
        items.append(
            AggregateRead(
                territory=r.territory,
                currency=r.currency,
                period=r.period,
                **c.as_dict(),
                volume=c.volume,
                active_accounts=active.get((r.territory, r.currency, r.period), 0),
                local_respend_share=c.share("spent_locally"),
                external_spend_share=c.share("spent_outside"),
                reconversion_leakage=c.share("reconverted"),
                updated_at=r.updated_at,
            )
        )
    return AggregatePage(
        items=items,
        next_cursor=next_cursor(
            rows, limit=limit, key=lambda r: [r.territory, r.currency, r.period]
        ),
    )


@router.get(
    "/aggregates/circulation", response_model=CirculationRead, responses=errors(InvalidInput)
)
async def get_circulation(
    territory: TerritoryFilter,
    currency: CurrencyFilter,
    period: Period,
    session: DbSession,
    principal: Reader,
) -> CirculationRead:
    """Velocity, flows and LM3 (R1 income, R2 spent locally, R3 re-spent locally) of one
    currency in one territory for one month, recomputed from the raw transfers."""
    principal.ensure_access("territories", territory)
    principal.ensure_access("currencies", currency)
    start, end = month_bounds(period)
    c = await year_circulation(session, code=territory, currency=currency, start=start, end=end)

    def share(compute: object) -> float | None:
        try:
            return compute()  # type: ignore[operator,no-any-return]
        except UndefinedIndicator:
            return None

    return CirculationRead(
        territory=territory,
        currency=currency,
        period=period,
        velocity=c.velocity,
        issued=c.flows.issued,
        received_from_outside=c.flows.received_from_outside,
        spent_locally=c.flows.spent_locally,
        spent_outside=c.flows.spent_outside,
        reconverted=c.flows.reconverted,
        local_respend_share=share(lambda: c.flows.local_respend_share),
        reconversion_leakage=share(lambda: c.flows.reconversion_leakage),
        r1=c.multiplier.r1,
        r2=c.multiplier.r2,
        r3=c.multiplier.r3,
        lm3=share(lambda: c.multiplier.lm3),
    )
