"""Holds: authorize, capture (full or partial), void; expiry runs in the background."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from services.ledger.accounts.errors import (
    AccountClosed,
    AccountFrozen,
    BalanceLimitExceeded,
)
from services.ledger.authority.errors import (
    DEBIT_ERRORS,
    NoDebitAuthority,
    NoReadAuthority,
    OperatorActRequired,
)
from services.ledger.holds import service
from services.ledger.holds.errors import (
    CaptureExceedsHold,
    HoldExpired,
    HoldNotAuthorized,
)
from services.ledger.holds.schemas import HOLD_ERRORS, HoldCapture, HoldCreate, HoldPage, HoldRead
from services.ledger.http.idempotency import Idempotency, idempotent_request
from services.ledger.http.pagination import (
    InvalidCursor,
    PageOf50,
)
from services.ledger.http.schemas import CODE
from services.ledger.http.scopes import AUTH_ERRORS, Poster, Reader
from services.ledger.transactions.errors import (
    InvalidAmount,
)
from shared.problems import NotFound, problem_responses
from shared.service_app import DbSession

router = APIRouter(prefix="/holds", tags=["holds"])

TRANSITION_ERRORS = (
    NotFound,
    *DEBIT_ERRORS,
    HoldNotAuthorized,
    HoldExpired,
    CaptureExceedsHold,
    InvalidAmount,
    AccountFrozen,
    AccountClosed,
    BalanceLimitExceeded,
)


@router.post(
    "",
    status_code=201,
    response_model=HoldRead,
    responses={
        200: {"model": HoldRead, "description": "Replay of an idempotent request"},
        **AUTH_ERRORS,
        **problem_responses(*HOLD_ERRORS),
    },
)
async def authorize_hold(
    body: HoldCreate,
    principal: Poster,
    session: DbSession,
    idempotency: Idempotency,
) -> Any:
    """Reserve funds on the payer's account until ``expires_at``."""
    principal.ensure_access("currencies", body.currency)
    return await idempotent_request(
        session,
        model=HoldRead,
        principal=principal,
        header_key=idempotency.header,
        request=body,
        route=idempotency.route,
        run=lambda: service.place_hold(
            session,
            principal,
            payer=body.payer,
            payee=body.payee,
            currency=body.currency,
            amount=body.amount,
            expires_at=body.expires_at,
            metadata=body.metadata,
        ),
    )


@router.get(
    "",
    response_model=HoldPage,
    responses={**AUTH_ERRORS, **problem_responses(InvalidCursor, OperatorActRequired)},
)
async def list_holds(
    principal: Reader,
    session: DbSession,
    currency: Annotated[str, Query(pattern=CODE)],
    paging: PageOf50,
) -> Any:
    """Holds of one currency, oldest first (the operator's read)."""
    items = await service.list_holds(
        session, principal, currency=currency, after=paging.after(UUID), limit=paging.limit
    )
    return paging.page_of(items, "id")


@router.get(
    "/{hold_id}",
    response_model=HoldRead,
    responses={**AUTH_ERRORS, **problem_responses(NotFound, NoReadAuthority)},
)
async def get_hold(hold_id: UUID, principal: Reader, session: DbSession) -> Any:
    """One hold: for whoever placed it, or may read its payer or payee."""
    return await service.read_hold(session, principal, hold_id)


@router.post(
    "/{hold_id}/capture",
    response_model=HoldRead,
    responses={**AUTH_ERRORS, **problem_responses(*TRANSITION_ERRORS)},
)
async def capture_hold(
    hold_id: UUID, body: HoldCapture, principal: Poster, session: DbSession
) -> Any:
    """Settle all or part of a hold; the rest is released."""
    return await service.capture(session, principal, hold_id, amount=body.amount)


@router.post(
    "/{hold_id}/void",
    response_model=HoldRead,
    responses={
        **AUTH_ERRORS,
        **problem_responses(NotFound, HoldNotAuthorized, HoldExpired, NoDebitAuthority),
    },
)
async def void_hold(hold_id: UUID, principal: Poster, session: DbSession) -> Any:
    """Cancel a hold, releasing its funds."""
    return await service.void(session, principal, hold_id)
