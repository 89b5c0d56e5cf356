"""Audit: the per-currency hash chain, its verification, and journal exports (FEC, CSV)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path
from pydantic import BaseModel

from services.ledger.api.common import visible_currency
from services.ledger.audit_verify import verify_chain
from services.ledger.http.schemas import CODE
from services.ledger.http.scopes import AUTH_ERRORS, Reader
from shared.problems import NotFound, problem_responses
from shared.service_app import DbSession

router = APIRouter(prefix="/currencies", tags=["audit"])

Code = Annotated[str, Path(pattern=CODE)]


class BrokenLink(BaseModel):
    position: int
    transaction_id: UUID
    expected_hash: str
    stored_hash: str
    reason: str


class ChainVerification(BaseModel):
    currency: str
    verified_links: int
    unsealed_transactions: int
    first_broken: BrokenLink | None


@router.get(
    "/{code}/audit/verify",
    response_model=ChainVerification,
    responses={**AUTH_ERRORS, **problem_responses(NotFound)},
)
async def verify(code: Code, principal: Reader, session: DbSession) -> Any:
    """Recompute the currency's hash chain from its postings; name the first broken link.

    Transactions committed in the last second or so are not sealed yet: they are counted
    in ``unsealed_transactions``, not verified."""
    await visible_currency(session, principal, code)
    return await verify_chain(session, currency=code)
