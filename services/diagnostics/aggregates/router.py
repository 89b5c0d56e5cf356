"""Live currency aggregates fed by the ledger's posted transactions.

A currency's live figures are read only by clients bound to it (``tenants.currencies``) as
well as to the territory: a named currency outside the binding is a 403, lists leave out
the currencies outside it (a client bound to none sees none)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.diagnostics.aggregates import service
from services.diagnostics.aggregates.schemas import AggregatePage, AggregateRead, CirculationRead
from services.diagnostics.errors import InvalidInput
from services.diagnostics.http import pagination
from services.diagnostics.http.pagination import Cursor, InvalidCursor, Limit
from services.diagnostics.http.parameters import Period, TerritoryFilter
from services.diagnostics.http.responses import errors
from services.diagnostics.http.scopes import Reader
from shared.service_app import DbSession

router = APIRouter(tags=["aggregates"])

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
    principal.ensure_filters({"territories": territory, "currencies": currency})
    items, following = await pagination.keyset_page(
        cursor,
        limit=limit,
        parse=lambda raw: (str(raw[0]), str(raw[1]), str(raw[2])),
        fetch=lambda after: service.list_aggregates(
            session,
            principal,
            after=after,
            limit=limit,
            territory=territory,
            currency=currency,
            period=period,
        ),
        key=pagination.fields_key("territory", "currency", "period"),
    )
    return AggregatePage(items=[AggregateRead(**item) for item in items], next_cursor=following)


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
    return CirculationRead(
        **await service.month_circulation(
            session, principal, territory=territory, currency=currency, period=period
        )
    )
