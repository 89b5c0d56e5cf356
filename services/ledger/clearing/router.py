"""Clearing between euro-backed currencies, over HTTP.

Terms and settlements are operator acts (``ledger:admin`` bound to the currency); a
payment is a posting (``ledger:post``), authorised on the payer's account as any posting;
positions, the settlement report and the invariant are the operators' (or an auditor's)
reads. Keyed routes replay as every keyed route of the ledger does.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query

from services.ledger.accounts.errors import POSTING_REFUSALS
from services.ledger.authority.errors import DEBIT_ERRORS, NoReadAuthority, OperatorActRequired
from services.ledger.clearing.errors import (
    FeeExceedsAmount,
    InvalidClearingPeriod,
    InvalidClearingTerms,
    PayeeNotMerchant,
    PayerNotEligible,
    PeriodAlreadySettled,
    PeriodNotEnded,
    SameCurrency,
)
from services.ledger.clearing.schemas import (
    PERIOD,
    InvariantRead,
    PaymentCreate,
    PaymentRead,
    PositionPage,
    SettlementCreate,
    SettlementPage,
    SettlementRead,
    TermsIn,
    TermsRead,
)
from services.ledger.clearing.service import payments, settlements
from services.ledger.currencies.errors import CurrencyNotConvertible, UnknownCurrency
from services.ledger.http.idempotency import Idempotency, idempotent
from services.ledger.http.media import CSV_MEDIA_TYPE, CsvResponse, attachment
from services.ledger.http.pagination import Cursor, InvalidCursor, Limit, decode_cursor, page
from services.ledger.http.schemas import CODE
from services.ledger.http.scopes import AUTH_ERRORS, Admin, Poster, Reader
from services.ledger.idempotency.errors import IdempotencyKeyReused
from shared.problems import NotFound, problem_responses
from shared.service_app import DbSession

router = APIRouter(prefix="/clearing", tags=["clearing"])

Currency = Annotated[str, Path(pattern=CODE)]
CurrencyQuery = Annotated[str, Query(pattern=CODE)]
PeriodQuery = Annotated[str | None, Query(pattern=PERIOD, description="AAAA-MM")]
REPLAY = "Replay of an idempotent request"
READ_ERRORS = problem_responses(OperatorActRequired, InvalidClearingPeriod, InvalidCursor)


@router.put(
    "/terms/{currency}",
    response_model=TermsRead,
    responses={
        **AUTH_ERRORS,
        **problem_responses(
            NotFound,
            CurrencyNotConvertible,
            InvalidClearingTerms,
            OperatorActRequired,
            *POSTING_REFUSALS,
        ),
    },
)
async def put_terms(currency: Currency, body: TermsIn, principal: Admin, session: DbSession) -> Any:
    """Opt a euro-backed currency into clearing (or out), with its fees."""
    return await payments.configure_terms(session, principal, currency, body)


@router.get(
    "/terms/{currency}",
    response_model=TermsRead,
    responses={**AUTH_ERRORS, **problem_responses(NotFound)},
)
async def get_terms(currency: Currency, principal: Reader, session: DbSession) -> Any:
    """A currency's clearing terms: its clearing account, its fees, who opted it in."""
    return await payments.read_terms(session, principal, currency)


@router.post(
    "/payments",
    status_code=201,
    response_model=PaymentRead,
    responses={
        200: {"model": PaymentRead, "description": REPLAY},
        **AUTH_ERRORS,
        **problem_responses(
            CurrencyNotConvertible,
            SameCurrency,
            PayerNotEligible,
            PayeeNotMerchant,
            FeeExceedsAmount,
            IdempotencyKeyReused,
            *POSTING_REFUSALS,
            *DEBIT_ERRORS,
        ),
    },
)
async def post_payment(
    body: PaymentCreate, principal: Poster, session: DbSession, idempotency: Idempotency
) -> Any:
    """Pay a merchant of another euro-backed currency, at par, in one transaction."""
    return await idempotent(
        session,
        model=PaymentRead,
        principal=principal,
        key=idempotency.key(body.idempotency_key),
        route=idempotency.route,
        body=body.model_dump(mode="json", exclude={"idempotency_key"}),
        run=lambda: payments.pay(session, principal, body),
    )


@router.get(
    "/payments/{transaction_id}",
    response_model=PaymentRead,
    responses={**AUTH_ERRORS, **problem_responses(NotFound, NoReadAuthority)},
)
async def get_payment(transaction_id: UUID, principal: Reader, session: DbSession) -> Any:
    """One clearing payment, for its payer's or its payee's readers."""
    return await payments.read_payment(session, principal, transaction_id)


@router.get(
    "/positions",
    response_model=PositionPage,
    responses={**AUTH_ERRORS, **READ_ERRORS},
)
async def list_positions(
    principal: Reader,
    session: DbSession,
    currency: CurrencyQuery,
    period: PeriodQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Any:
    """Net clearing position of each pair ``currency`` clears with, per period."""
    found = await settlements.positions(
        session,
        principal,
        currency=currency,
        period=period,
        after=decode_cursor(cursor, settlements.parse_position_cursor),
        limit=limit,
    )
    return page(found, limit=limit, key=settlements.position_cursor)


@router.post(
    "/settlements",
    status_code=201,
    response_model=SettlementRead,
    responses={
        200: {"model": SettlementRead, "description": REPLAY},
        **AUTH_ERRORS,
        **problem_responses(
            SameCurrency,
            CurrencyNotConvertible,
            InvalidClearingPeriod,
            PeriodNotEnded,
            PeriodAlreadySettled,
            OperatorActRequired,
            IdempotencyKeyReused,
            *POSTING_REFUSALS,
        ),
    },
)
async def post_settlement(
    body: SettlementCreate, principal: Admin, session: DbSession, idempotency: Idempotency
) -> Any:
    """Settle a pair's ended period: the net moves in euros between the two reserves."""
    return await idempotent(
        session,
        model=SettlementRead,
        principal=principal,
        key=idempotency.key(body.idempotency_key),
        route=idempotency.route,
        body=body.model_dump(mode="json", exclude={"idempotency_key"}),
        run=lambda: settlements.settle(session, principal, body),
    )


@router.get(
    "/settlements",
    response_model=SettlementPage,
    responses={**AUTH_ERRORS, **READ_ERRORS},
)
async def list_settlements(
    principal: Reader,
    session: DbSession,
    currency: CurrencyQuery,
    period: PeriodQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Any:
    """The settlement report between ``currency``'s association and the others."""
    found = await settlements.settlements(
        session,
        principal,
        currency=currency,
        period=period,
        after=decode_cursor(cursor, UUID),
        limit=limit,
    )
    return page(found, limit=limit, key=lambda s: s["id"])


@router.get(
    "/settlements.csv",
    response_class=CsvResponse,
    responses={
        200: {"description": "The settlement report as CSV, French headers, amounts in cents"},
        **AUTH_ERRORS,
        **READ_ERRORS,
    },
)
async def settlements_csv(
    principal: Reader, session: DbSession, currency: CurrencyQuery, period: PeriodQuery = None
) -> Any:
    """The settlement report as CSV (at most 10 000 rows: filter by period beyond)."""
    text = await settlements.settlements_csv(session, principal, currency=currency, period=period)
    name = f"compensation-{currency}-{period or 'toutes-periodes'}.csv"
    return CsvResponse(
        text, media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8", headers=attachment(name)
    )


@router.get(
    "/currencies/{currency}/invariant",
    response_model=InvariantRead,
    responses={
        **AUTH_ERRORS,
        **problem_responses(CurrencyNotConvertible, OperatorActRequired, UnknownCurrency),
    },
)
async def get_invariant(currency: Currency, principal: Reader, session: DbSession) -> Any:
    """reserve + net clearing position = circulation, from the balances right now."""
    return await settlements.invariant(session, principal, currency)
