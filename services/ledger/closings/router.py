"""Period closings of a currency: HTTP only."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path

from services.ledger.authority.errors import OperatorActRequired
from services.ledger.closings import service
from services.ledger.closings.errors import AlreadyClosed, ClosingNotPast
from services.ledger.closings.schemas import ClosingCreate, ClosingPage, ClosingRead
from services.ledger.http.pagination import Cursor, InvalidCursor, Limit, decode_cursor, page
from services.ledger.http.schemas import CODE
from services.ledger.http.scopes import AUTH_ERRORS, Admin, Reader
from shared.problems import NotFound, problem_responses
from shared.service_app import DbSession

router = APIRouter(prefix="/currencies/{code}/closings", tags=["closings"])

Code = Annotated[str, Path(pattern=CODE)]


@router.post(
    "",
    status_code=201,
    response_model=ClosingRead,
    responses={
        **AUTH_ERRORS,
        **problem_responses(NotFound, OperatorActRequired, ClosingNotPast, AlreadyClosed),
    },
)
async def close_period(
    code: Code, body: ClosingCreate, principal: Admin, session: DbSession
) -> Any:
    """Close the currency's books through a past date (the operator's act): no transaction
    touching the currency may be dated on or before it afterwards, and its journal up to
    that date becomes final once sealed."""
    row = await service.close(session, principal, currency=code, through=body.through)
    return dict(row)


@router.get(
    "",
    response_model=ClosingPage,
    responses={**AUTH_ERRORS, **problem_responses(NotFound, InvalidCursor)},
)
async def list_closings(
    code: Code, principal: Reader, session: DbSession, limit: Limit = 50, cursor: Cursor = None
) -> Any:
    """The currency's closings, oldest first: the latest says through which date it is
    closed."""
    rows = await service.list_closings(
        session, principal, code, after=decode_cursor(cursor, date.fromisoformat), limit=limit
    )
    return page([dict(r) for r in rows], limit=limit, key=lambda c: c["through"].isoformat())
