"""Live grant aggregates fed by the funding service's budget and payment events, and the
instruments' figures (loans and guarantees) of a territory."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.diagnostics.grants import service
from services.diagnostics.grants.schemas import GrantPage, GrantRead, InstrumentsRead
from services.diagnostics.http import pagination
from services.diagnostics.http.pagination import Cursor, InvalidCursor, Limit
from services.diagnostics.http.parameters import Period, TerritoryCode, TerritoryFilter
from services.diagnostics.http.responses import errors
from services.diagnostics.http.scopes import Reader
from services.diagnostics.territories.errors import TerritoryNotFound
from shared.service_app import DbSession

router = APIRouter(tags=["aggregates"])

ProgrammeFilter = Annotated[str, Query(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]


@router.get("/grants", response_model=GrantPage, responses=errors(InvalidCursor))
async def list_grants(
    session: DbSession,
    principal: Reader,
    territory: TerritoryFilter | None = None,
    programme: ProgrammeFilter | None = None,
    period: Period | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> GrantPage:
    """Per territory, programme, currency and month: commitments and releases (euro cents),
    payments and amounts paid (minor units of the paying currency)."""
    principal.ensure_filters({"territories": territory, "programmes": programme})
    items, following = await pagination.keyset_page(
        cursor,
        limit=limit,
        parse=lambda raw: (str(raw[0]), str(raw[1]), str(raw[2]), str(raw[3])),
        fetch=lambda after: service.list_grants(
            session,
            principal,
            after=after,
            limit=limit,
            territory=territory,
            programme=programme,
            period=period,
        ),
        key=pagination.fields_key("territory", "programme", "currency", "period"),
    )
    return GrantPage(items=[GrantRead(**item) for item in items], next_cursor=following)


@router.get(
    "/territories/{code}/instruments",
    response_model=InstrumentsRead,
    responses=errors(TerritoryNotFound),
)
async def get_instruments(
    code: TerritoryCode, session: DbSession, principal: Reader
) -> InstrumentsRead:
    """Loans and guarantees of the territory as funding last published them: a
    département's own figures, a région's summed over its départements (leverage and
    repayment rate recomputed from the sums); zeros below the département."""
    return InstrumentsRead(**await service.instruments(session, principal, code))
