"""Holds: authorize, capture (full or partial), void; expiry runs in the background."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from services.ledger import holding
from services.ledger.api.common import (
    AUTH_ERRORS,
    Cursor,
    IdempotencyHeader,
    Limit,
    Poster,
    Reader,
    decode_cursor,
    idempotent_request,
    page,
)
from services.ledger.api.schemas import CODE, HoldCapture, HoldCreate, HoldPage, HoldRead
from services.ledger.domain import errors as e
from services.ledger.store import repository as repo
from shared.auth import Principal
from shared.problems import NotFound, Unprocessable, problem_responses
from shared.service_app import DbSession

router = APIRouter(prefix="/holds", tags=["holds"])

HOLD_ERRORS = (
    e.InvalidAmount,
    e.InvalidHoldExpiry,
    e.DuplicateAccountPosting,
    e.CurrencyMismatch,
    e.UnknownAccount,
    e.AccountFrozen,
    e.AccountClosed,
    e.InsufficientFunds,
    e.CreditLimitExceeded,
    e.BalanceLimitExceeded,
    e.IdempotencyKeyReused,
    e.VoucherCreditRestricted,
    Unprocessable,
)
TRANSITION_ERRORS = (
    NotFound,
    e.HoldNotAuthorized,
    e.HoldExpired,
    e.CaptureExceedsHold,
    e.InvalidAmount,
    e.AccountFrozen,
    e.AccountClosed,
    e.BalanceLimitExceeded,
)


async def _visible_hold(session: Any, principal: Principal, hold_id: UUID, *, lock: bool) -> Any:
    row = await holding.require_hold(session, hold_id, lock=lock)
    principal.ensure_access("currencies", row["currency"])
    return row


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
    idempotency_key: IdempotencyHeader = None,
) -> Any:
    """Reserve funds on the payer's account until ``expires_at``."""
    principal.ensure_access("currencies", body.currency)
    return await idempotent_request(
        session,
        model=HoldRead,
        principal=principal,
        header_key=idempotency_key,
        request=body,
        route="POST /holds",
        run=lambda: holding.authorize_hold(
            session,
            payer=body.payer,
            payee=body.payee,
            currency=body.currency,
            amount=body.amount,
            expires_at=body.expires_at,
            metadata=body.metadata,
        ),
    )


@router.get(
    "", response_model=HoldPage, responses={**AUTH_ERRORS, **problem_responses(e.InvalidCursor)}
)
async def list_holds(
    principal: Reader,
    session: DbSession,
    currency: Annotated[str, Query(pattern=CODE)],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Any:
    """Holds of one currency, oldest first."""
    principal.ensure_access("currencies", currency)
    rows = await repo.list_holds(
        session, currency=currency, after=decode_cursor(cursor, UUID), limit=limit
    )
    return page([holding.hold_view(r) for r in rows], limit=limit, key=lambda h: h["id"])


@router.get(
    "/{hold_id}", response_model=HoldRead, responses={**AUTH_ERRORS, **problem_responses(NotFound)}
)
async def get_hold(hold_id: UUID, principal: Reader, session: DbSession) -> Any:
    """One hold."""
    return holding.hold_view(await _visible_hold(session, principal, hold_id, lock=False))


@router.post(
    "/{hold_id}/capture",
    response_model=HoldRead,
    responses={**AUTH_ERRORS, **problem_responses(*TRANSITION_ERRORS)},
)
async def capture_hold(
    hold_id: UUID, body: HoldCapture, principal: Poster, session: DbSession
) -> Any:
    """Settle all or part of a hold; the rest is released."""
    await _visible_hold(session, principal, hold_id, lock=True)
    return await holding.capture_hold(
        session, hold_id=hold_id, amount=body.amount, client_id=principal.client_id
    )


@router.post(
    "/{hold_id}/void",
    response_model=HoldRead,
    responses={**AUTH_ERRORS, **problem_responses(NotFound, e.HoldNotAuthorized, e.HoldExpired)},
)
async def void_hold(hold_id: UUID, principal: Poster, session: DbSession) -> Any:
    """Cancel a hold, releasing its funds."""
    await _visible_hold(session, principal, hold_id, lock=True)
    return await holding.void_hold(session, hold_id=hold_id)
