"""Four-eyes approvals of a currency's large issuances and reconversions: HTTP only."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Path, Query

from services.ledger.api.common import ensure_operator_read
from services.ledger.api.transactions import POSTING_ERRORS
from services.ledger.approvals import repository as repo
from services.ledger.approvals import service
from services.ledger.approvals.errors import ApprovalNotPending, SameOperator
from services.ledger.approvals.rules import Act
from services.ledger.approvals.schemas import ApprovalPage, ApprovalRead
from services.ledger.authority import service as authority
from services.ledger.authority.errors import OperatorActRequired
from services.ledger.http.pagination import (
    Cursor,
    InvalidCursor,
    Limit,
    decode_cursor,
    page,
)
from services.ledger.http.scopes import AUTH_ERRORS, Admin, Reader
from shared.auth import Principal
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


def _ensure_decider(principal: Principal, code: str, act: str) -> None:
    """A decider operates the currency and holds the act's own scope."""
    principal.ensure_access("currencies", code)
    authority.ensure_operator(principal, code, act=f"deciding on a {act}")
    scope = Act(act).scope
    if scope not in principal.scopes and not principal.is_admin:
        raise Forbidden(f"scope {scope!r} required to decide on a {act}")


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
    principal.ensure_access("currencies", code)
    ensure_operator_read(principal, code, what="the currency's approvals")
    rows = await repo.list_approvals(
        session, code, status=status, after=decode_cursor(cursor, UUID), limit=limit
    )
    return page([dict(r) for r in rows], limit=limit, key=lambda a: a["id"])


async def _decide(
    code: str, approval_id: UUID, principal: Principal, session: Any, *, approve: bool
) -> Any:
    principal.ensure_access("currencies", code)
    row = await repo.get_approval(session, code, approval_id)
    if row is None:
        raise NotFound(f"no approval {approval_id} in {code}")
    _ensure_decider(principal, code, row["act"])
    decide = service.approve if approve else service.reject
    return await decide(session, authority.actor(principal), currency=code, approval_id=approval_id)


@router.post(
    "/{approval_id}/approval",
    response_model=ApprovalRead,
    responses={**AUTH_ERRORS, **problem_responses(*DECISION_ERRORS, *POSTING_ERRORS)},
)
async def approve(code: Code, approval_id: UUID, principal: Admin, session: DbSession) -> Any:
    """A second operator approves: the act is posted now, with both principals recorded."""
    return await _decide(code, approval_id, principal, session, approve=True)


@router.post(
    "/{approval_id}/rejection",
    response_model=ApprovalRead,
    responses={**AUTH_ERRORS, **problem_responses(*DECISION_ERRORS)},
)
async def reject(code: Code, approval_id: UUID, principal: Admin, session: DbSession) -> Any:
    """A second operator refuses the act: nothing is posted."""
    return await _decide(code, approval_id, principal, session, approve=False)
