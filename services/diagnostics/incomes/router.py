"""A territory's income sources (Filosofi), income tax (IRCOM) and tourist capacity."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.diagnostics.http.parameters import TerritoryCode
from services.diagnostics.http.responses import errors
from services.diagnostics.http.scopes import Reader
from services.diagnostics.incomes import service
from services.diagnostics.incomes.errors import IncomeSourcesNotFound, OfficialFiguresNotFound
from services.diagnostics.incomes.schemas import IncomeSourcesRead, OfficialFiguresRead
from services.diagnostics.territories.errors import TerritoryNotFound
from shared.service_app import DbSession

router = APIRouter(tags=["incomes"])

Vintage = Annotated[
    int | None, Query(ge=1990, le=2100, description="Vintage (default: the latest)")
]


@router.get(
    "/territories/{code}/income-sources",
    response_model=IncomeSourcesRead,
    responses=errors(TerritoryNotFound, IncomeSourcesNotFound),
)
async def income_sources(
    code: TerritoryCode, session: DbSession, principal: Reader, year: Vintage = None
) -> IncomeSourcesRead:
    """Households, median disposable income and the shares of earned income, pensions,
    property income and social benefits (Filosofi, the territory's own level)."""
    body = await service.income_sources(session, principal, code, year)
    return IncomeSourcesRead.model_validate(body)


@router.get(
    "/territories/{code}/income-tax",
    response_model=OfficialFiguresRead,
    responses=errors(TerritoryNotFound, OfficialFiguresNotFound),
)
async def income_tax(
    code: TerritoryCode, session: DbSession, principal: Reader, year: Vintage = None
) -> OfficialFiguresRead:
    """Tax households, reference income, net tax, salaries and pensions declared (DGFiP,
    IRCOM; year: of the incomes): the territory's own line, else its communes' summed,
    ratios recomputed; a secret cell makes a sum unknown (null)."""
    body = await service.official_figures(
        session, principal, code=code, dataset="income_tax", year=year
    )
    return OfficialFiguresRead.model_validate(body)


@router.get(
    "/territories/{code}/tourism-capacity",
    response_model=OfficialFiguresRead,
    responses=errors(TerritoryNotFound, OfficialFiguresNotFound),
)
async def tourism_capacity(
    code: TerritoryCode, session: DbSession, principal: Reader, year: Vintage = None
) -> OfficialFiguresRead:
    """Hotel rooms, campsite pitches, collective beds (INSEE) and secondary homes (census),
    the estimated tourist beds and the tourist function rate: the territory's own line,
    else its communes' summed."""
    body = await service.official_figures(
        session, principal, code=code, dataset="tourism", year=year
    )
    return OfficialFiguresRead.model_validate(body)
