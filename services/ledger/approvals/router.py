"""Four-eyes approvals of a currency's large issuances and reconversions: HTTP only."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Path, Query

from services.ledger.approvals import service
from services.ledger.approvals.errors import ApprovalNotPending, SameOperator
from services.ledger.approvals.schemas import ApprovalPage, ApprovalRead
from services.ledger.authority.errors import OperatorActRequired
from services.ledger.http.pagination import (
    Cursor,
    InvalidCursor,
    Limit,
    decode_cursor,
    page,
)
from services.ledger.http.scopes import AUTH_ERRORS, Admin, Reader
from services.ledger.transactions.schemas import POSTING_ERRORS
from shared.problems import Forbidden, NotFound, problem_responses
from shared.service_app import DbSession

router = APIRouter(prefix="/currencies/{code}/approvals", tags=["approvals"])

Code = Annotated[str, Path(pattern=r"^[A-Z][A-Z0-9_]{1,15}$")]
DECISION_ERRORS = (
    NotFound,
    SameOperator,
    ApprovalNotPending,
    OperatorActRequired,
    Forbidden,
)


@router.get(
    "",
    response_model=ApprovalPage,
    responses={**AUTH_ERRORS, **problem_responses(InvalidCursor, OperatorActRequired)},
)
async def list_approvals(
    code: Code,
    principal: Reader,
    session: DbSession,
    status: Annotated[Literal["pending", "approved", "rejected"] | None, Query()] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Any:
    """Issuances and reconversions waiting for (or decided by) a second operator."""
    rows = await service.list_approvals(
        session, principal, code, status=status, after=decode_cursor(cursor, UUID), limit=limit
    )
    return page([dict(r) for r in rows], limit=limit, key=lambda a: a["id"])


@router.post(
    "/{approval_id}/approval",
    response_model=ApprovalRead,
    responses={**AUTH_ERRORS, **problem_responses(*DECISION_ERRORS, *POSTING_ERRORS)},
)
async def approve(code: Code, approval_id: UUID, principal: Admin, session: DbSession) -> Any:
    """A second operator approves: the act is posted now, with both principals recorded."""
    return await service.decide(session, principal, code, approval_id, approve=True)


@router.post(
    "/{approval_id}/rejection",
    response_model=ApprovalRead,
    responses={**AUTH_ERRORS, **problem_responses(*DECISION_ERRORS)},
)
async def reject(code: Code, approval_id: UUID, principal: Admin, session: DbSession) -> Any:
    """A second operator refuses the act: nothing is posted."""
    return await service.decide(session, principal, code, approval_id, approve=False)
