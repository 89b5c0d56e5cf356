"""Payment requests: a payee asks, the payer accepts (the transfer is posted then) or
declines, the payee may cancel: HTTP only."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query

from services.ledger.accounts.errors import (
    AccountClosed,
    AccountFrozen,
    CurrencyMismatch,
    UnknownAccount,
)
from services.ledger.authority.errors import NoDebitAuthority, NoReadAuthority
from services.ledger.http.pagination import (
    Cursor,
    InvalidCursor,
    Limit,
    decode_cursor,
    page,
)
from services.ledger.http.scopes import AUTH_ERRORS, Poster, Reader
from services.ledger.payment_requests import service
from services.ledger.payment_requests.errors import (
    InvalidPaymentRequestExpiry,
    PayerIsPayee,
    PaymentRequestExpired,
    PaymentRequestNotPending,
)
from services.ledger.payment_requests.schemas import (
    PaymentRequestAccepted,
    PaymentRequestCreate,
    PaymentRequestPage,
    PaymentRequestRead,
)
from services.ledger.transactions.schemas import POSTING_ERRORS
from shared.problems import NotFound, problem_responses
from shared.service_app import DbSession

router = APIRouter(prefix="/payment-requests", tags=["payment requests"])

CREATE_ERRORS = (
    UnknownAccount,
    CurrencyMismatch,
    AccountFrozen,
    AccountClosed,
    NoDebitAuthority,
    PayerIsPayee,
    InvalidPaymentRequestExpiry,
)
DECISION_ERRORS = (NotFound, NoDebitAuthority, PaymentRequestNotPending, PaymentRequestExpired)
StatusFilter = Literal["pending", "accepted", "declined", "cancelled", "expired"]


@router.post(
    "",
    status_code=201,
    response_model=PaymentRequestRead,
    responses={**AUTH_ERRORS, **problem_responses(*CREATE_ERRORS)},
)
async def request_payment(body: PaymentRequestCreate, principal: Poster, session: DbSession) -> Any:
    """Ask the payer account for an amount into the payee account (the payee's holder, or
    the operator). Nothing moves until the payer side accepts."""
    return await service.request_payment(
        session,
        principal,
        payee_account_id=body.payee_account_id,
        payer_account_id=body.payer_account_id,
        amount=body.amount,
        description=body.description,
        expires_at=body.expires_at,
    )


@router.get(
    "",
    response_model=PaymentRequestPage,
    responses={**AUTH_ERRORS, **problem_responses(NotFound, NoReadAuthority, InvalidCursor)},
)
async def list_payment_requests(
    principal: Reader,
    session: DbSession,
    account_id: Annotated[UUID, Query(description="Requests where it is the payer or payee")],
    status: Annotated[StatusFilter | None, Query()] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Any:
    """Requests an account asked or was asked, oldest first (whoever may read it)."""
    items = await service.requests_of(
        session,
        principal,
        account_id,
        status=status,
        after=decode_cursor(cursor, UUID),
        limit=limit,
    )
    return page(items, limit=limit, key=lambda r: r["id"])


@router.get(
    "/{request_id}",
    response_model=PaymentRequestRead,
    responses={**AUTH_ERRORS, **problem_responses(NotFound, NoReadAuthority)},
)
async def get_payment_request(request_id: UUID, principal: Reader, session: DbSession) -> Any:
    """One request: for whoever may read its payer or its payee account."""
    return await service.read_request(session, principal, request_id)


@router.post(
    "/{request_id}/acceptance",
    response_model=PaymentRequestAccepted,
    responses={
        **AUTH_ERRORS,
        **problem_responses(*DECISION_ERRORS, *POSTING_ERRORS),
    },
)
async def accept_payment_request(request_id: UUID, principal: Poster, session: DbSession) -> Any:
    """The payer pays: the transfer is posted now, under the caller's authority over the
    payer account (its holder, a mandate within its limits, or the operator); once."""
    return await service.decide(session, principal, request_id, decision="accept")


@router.post(
    "/{request_id}/decline",
    response_model=PaymentRequestRead,
    responses={**AUTH_ERRORS, **problem_responses(*DECISION_ERRORS)},
)
async def decline_payment_request(request_id: UUID, principal: Poster, session: DbSession) -> Any:
    """The payer side refuses (the payer account's holder, or the operator): nothing moves."""
    return await service.decide(session, principal, request_id, decision="decline")


@router.post(
    "/{request_id}/cancellation",
    response_model=PaymentRequestRead,
    responses={**AUTH_ERRORS, **problem_responses(*DECISION_ERRORS)},
)
async def cancel_payment_request(request_id: UUID, principal: Poster, session: DbSession) -> Any:
    """The payee side withdraws it (the payee account's holder, or the operator)."""
    return await service.decide(session, principal, request_id, decision="cancel")
