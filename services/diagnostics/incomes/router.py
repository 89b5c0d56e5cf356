"""A territory's income sources, as Filosofi publishes them for its level."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.diagnostics.http.parameters import TerritoryCode
from services.diagnostics.http.responses import errors
from services.diagnostics.http.scopes import Reader
from services.diagnostics.incomes import service
from services.diagnostics.incomes.errors import IncomeSourcesNotFound
from services.diagnostics.incomes.schemas import IncomeSourcesRead
from services.diagnostics.territories.errors import TerritoryNotFound
from shared.service_app import DbSession

router = APIRouter(tags=["incomes"])


@router.get(
    "/territories/{code}/income-sources",
    response_model=IncomeSourcesRead,
    responses=errors(TerritoryNotFound, IncomeSourcesNotFound),
)
async def income_sources(
    code: TerritoryCode,
    session: DbSession,
    principal: Reader,
    year: Annotated[
        int | None, Query(ge=1990, le=2100, description="Vintage (default: the latest)")
    ] = None,
) -> IncomeSourcesRead:
    """Households, median disposable income and the shares of earned income, pensions,
    property income and social benefits (Filosofi, the territory's own level)."""
    body = await service.income_sources(session, principal, code, year)
    return IncomeSourcesRead.model_validate(body)
