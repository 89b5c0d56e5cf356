"""Transactions: post, read, list, reverse."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger import service
from services.ledger.accounts.errors import (
    AccountClosed,
    AccountFrozen,
    BalanceLimitExceeded,
    CreditLimitExceeded,
    CurrencyMismatch,
    InsufficientFunds,
    UnknownAccount,
)
from services.ledger.api.common import ensure_operator_read, readable_party
from services.ledger.authority import service as authority
from services.ledger.authority.errors import DEBIT_ERRORS, NoReadAuthority, OperatorActRequired
from services.ledger.closings import service as closings
from services.ledger.closings.errors import (
    EffectiveDateInFuture,
    EffectiveDateTooOld,
    PeriodClosed,
)
from services.ledger.http.bodies import body_schema, parse_body
from services.ledger.http.idempotency import (
    IdempotencyHeader,
    body_digest,
    idempotent,
    idempotent_json,
    pick_key,
    sort_metadata,
)
from services.ledger.http.pagination import (
    Cursor,
    InvalidCursor,
    Limit,
    decode_cursor,
    page,
)
from services.ledger.http.schemas import CODE
from services.ledger.http.scopes import AUTH_ERRORS, Poster, Reader, Reverser
from services.ledger.idempotency.errors import (
    IdempotencyKeyReused,
)
from services.ledger.store import repository as repo
from services.ledger.transactions.errors import (
    AlreadyReversed,
    DebtCapExceeded,
    DuplicateAccountPosting,
    InvalidAmount,
    MonthlyLoadCapExceeded,
    TooFewPostings,
    UnbalancedTransaction,
    VoucherCreditRestricted,
)
from services.ledger.transactions.rules import Posting
from services.ledger.transactions.schemas import (
    ReversalCreate,
    TransactionCreate,
    TransactionFields,
    TransactionPage,
    TransactionRead,
    json_text,
    view_json,
)
from shared.auth import Principal
from shared.problems import NotFound, Unprocessable, problem_responses
from shared.service_app import DbSession

router = APIRouter(prefix="/transactions", tags=["transactions"])

POSTING_ERRORS = (
    InvalidAmount,
    TooFewPostings,
    DuplicateAccountPosting,
    UnbalancedTransaction,
    CurrencyMismatch,
    UnknownAccount,
    AccountFrozen,
    AccountClosed,
    InsufficientFunds,
    CreditLimitExceeded,
    BalanceLimitExceeded,
    MonthlyLoadCapExceeded,
    DebtCapExceeded,
    IdempotencyKeyReused,
    VoucherCreditRestricted,
    EffectiveDateInFuture,
    EffectiveDateTooOld,
    PeriodClosed,
    Unprocessable,
    *DEBIT_ERRORS,
)
ROUTE = "POST /transactions"


def legs_of(body: TransactionFields) -> list[Posting]:
    return [
        Posting(account_id=p.account_id, currency=p.currency, amount=p.amount)
        for p in body.postings
    ]


async def post_fields(
    session: AsyncSession, principal: Principal, body: TransactionFields, key: str | None
) -> dict[str, Any]:
    """Check the tenant of every currency and the effective date's bounds, then post."""
    currencies = sorted({p.currency for p in body.postings})
    for currency in currencies:
        principal.ensure_access("currencies", currency)
    if body.effective_date is not None:
        await closings.check_effective_dates(session, [(body.effective_date, currencies)])
    return await service.post(
        session,
        actor=authority.actor(principal),
        legs=legs_of(body),
        kind=body.kind,
        effective_date=body.effective_date,
        description=body.description,
        metadata=body.metadata,
        idempotency_key=key,
    )


def ensure_visible(principal: Principal, view: dict[str, Any]) -> None:
    for currency in sorted({p["currency"] for p in view["postings"]}):
        principal.ensure_access("currencies", currency)


async def ensure_readable(
    session: AsyncSession, principal: Principal, view: dict[str, Any]
) -> None:
    """A transaction is readable by whoever may read one of its accounts (a payer, a payee,
    their mandates, the operator)."""
    ensure_visible(principal, view)
    await readable_party(session, principal, (UUID(p["account_id"]) for p in view["postings"]))


@router.post(
    "",
    status_code=201,
    response_model=TransactionRead,
    openapi_extra=body_schema(TransactionCreate),
    responses={
        200: {"model": TransactionRead, "description": "Replay of an idempotent request"},
        **AUTH_ERRORS,
        **problem_responses(*POSTING_ERRORS),
    },
)
async def post_transaction(
    request: Request,
    principal: Poster,
    session: DbSession,
    idempotency_key: IdempotencyHeader = None,
) -> Any:
    """Post a balanced transaction: postings of each currency sum to zero."""
    # The hottest write: the body is validated from its bytes (`parse_body`), the answer
    # written without a response model, and the key's row keeps the transaction's id.
    body = await parse_body(TransactionCreate, request)
    sort_metadata((body,))
    key = pick_key(idempotency_key, body.idempotency_key)

    async def run() -> tuple[str, None]:
        # The transaction's INSERT also records it as the key's answer (`insert_transaction`).
        return view_json(await post_fields(session, principal, body, key)), None

    async def replay(record: Any) -> str:
        if record.get("replay") != "transaction":
            return json_text(record)
        return view_json(await service.load_transaction(session, UUID(record["id"])))

    return await idempotent_json(
        session,
        client_id=principal.client_id,
        key=key,
        digest=lambda: body_digest(ROUTE, body),
        run=run,
        replay=replay,
    )


@router.get(
    "",
    response_model=TransactionPage,
    responses={**AUTH_ERRORS, **problem_responses(InvalidCursor, OperatorActRequired)},
)
async def list_transactions(
    principal: Reader,
    session: DbSession,
    currency: Annotated[str, Query(pattern=CODE)],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Any:
    """Transactions touching one currency, in posting order (the operator's read)."""
    principal.ensure_access("currencies", currency)
    ensure_operator_read(principal, currency, what="every transaction of a currency")
    rows = await repo.list_transactions(
        session, currency=currency, after=decode_cursor(cursor, int), limit=limit
    )
    legs = await repo.legs_of(session, [r["id"] for r in rows])
    items = [service.transaction_view(r, legs[r["id"]]) for r in rows]
    seqs = {str(r["id"]): r["seq"] for r in rows}
    return page(items, limit=limit, key=lambda t: seqs[t["id"]])


@router.get(
    "/{transaction_id}",
    response_model=TransactionRead,
    responses={**AUTH_ERRORS, **problem_responses(NotFound, NoReadAuthority)},
)
async def get_transaction(transaction_id: UUID, principal: Reader, session: DbSession) -> Any:
    """One transaction with its postings."""
    view = await service.load_transaction(session, transaction_id)
    await ensure_readable(session, principal, view)
    return view


@router.post(
    "/{transaction_id}/reversal",
    status_code=201,
    response_model=TransactionRead,
    responses={
        200: {"model": TransactionRead, "description": "Replay of an idempotent request"},
        **AUTH_ERRORS,
        **problem_responses(NotFound, AlreadyReversed, *POSTING_ERRORS, OperatorActRequired),
    },
)
async def reverse_transaction(
    transaction_id: UUID,
    body: ReversalCreate,
    principal: Reverser,
    session: DbSession,
    idempotency_key: IdempotencyHeader = None,
) -> Any:
    """Post the exact opposite of a transaction, linked to it (the ledger is append-only).

    It debits the original's payees: the caller needs authority over them (a payee
    refunding, or the operator); an operator act is reversed only by the operator."""
    key = pick_key(idempotency_key, body.idempotency_key)

    async def run() -> dict[str, Any]:
        original = await service.load_transaction(session, transaction_id)
        ensure_visible(principal, original)
        return await service.reverse(
            session,
            original=original,
            actor=authority.actor(principal),
            description=body.description,
            idempotency_key=key,
        )

    return await idempotent(
        session,
        model=TransactionRead,
        principal=principal,
        key=key,
        route=f"POST /transactions/{transaction_id}/reversal",
        body=body.model_dump(mode="json", exclude={"idempotency_key"}),
        run=run,
    )
