"""Currencies: registered by an operator with their rules (`router`); and for euro-backed
ones, the reserve accounts, issuance, reconversion and reconciliation (`reserve_router`).
HTTP only."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.accounts.errors import CurrencyMismatch, UnknownAccount
from services.ledger.approvals.schemas import ApprovalRead
from services.ledger.authority.errors import OperatorActRequired
from services.ledger.currencies.errors import (
    ConversionNotAllowed,
    CurrencyExists,
    FundAccountRequired,
    InvalidCurrencyRules,
    ReconversionForbidden,
    ReconversionTooSmall,
    ReserveInvariantViolated,
    UnknownCurrency,
)
from services.ledger.currencies.schemas import (
    CurrencyCreate,
    CurrencyPage,
    CurrencyRead,
    IssuanceCreate,
    Reconciliation,
    ReconversionCreate,
    ReportedBankBalance,
    ReserveConfig,
    ReserveRead,
)
from services.ledger.currencies.service import acts, registry, reserve
from services.ledger.http.idempotency import Idempotency, IdempotencyContext, idempotent_request
from services.ledger.http.pagination import Cursor, InvalidCursor, Limit, decode_cursor, page
from services.ledger.http.schemas import CODE
from services.ledger.http.scopes import (
    AUTH_ERRORS,
    Admin,
    Issuer,
    Reader,
    Reconverter,
)
from services.ledger.transactions.schemas import POSTING_ERRORS, TransactionRead
from shared.auth import Principal
from shared.problems import NotFound, problem_responses
from shared.service_app import DbSession

router = APIRouter(prefix="/currencies", tags=["currencies"])
reserve_router = APIRouter(prefix="/currencies/{code}", tags=["reserves"])


def currency_code(raw: str) -> str:
    if not re.fullmatch(CODE, raw):
        raise ValueError("not a currency code")
    return raw


def _view(row: Any) -> dict[str, Any]:
    return {k: row[k] for k in ("code", "kind", "scale", "operator", "rules")}


@router.post(
    "",
    status_code=201,
    response_model=CurrencyRead,
    responses={**AUTH_ERRORS, **problem_responses(CurrencyExists, InvalidCurrencyRules)},
)
async def create_currency(body: CurrencyCreate, principal: Admin, session: DbSession) -> Any:
    """Register a currency and its rules (operator of that currency only)."""
    principal.ensure_access("currencies", body.code)
    row = await registry.create_currency(
        session,
        code=body.code,
        kind=body.kind.value,
        scale=body.scale,
        operator=body.operator,
        rules=body.rules.model_dump(exclude_none=True),
    )
    return _view(row)


@router.get(
    "", response_model=CurrencyPage, responses={**AUTH_ERRORS, **problem_responses(InvalidCursor)}
)
async def list_currencies(
    principal: Reader, session: DbSession, limit: Limit = 50, cursor: Cursor = None
) -> Any:
    """Currencies this client may see, by code."""
    rows = await registry.list_currencies(
        session, principal, after=decode_cursor(cursor, currency_code), limit=limit
    )
    return page([_view(r) for r in rows], limit=limit, key=lambda c: c["code"])


@router.get(
    "/{code}", response_model=CurrencyRead, responses={**AUTH_ERRORS, **problem_responses(NotFound)}
)
async def get_currency(
    code: Annotated[str, Path(pattern=CODE)], principal: Reader, session: DbSession
) -> Any:
    """One currency and its rules."""
    return _view(await registry.visible_currency(session, principal, code))


# --- the reserve of a euro-backed currency, issuance and reconversion -----------------------

Code = Annotated[str, Path(pattern=r"^[A-Z][A-Z0-9_]{1,15}$")]
CONVERSION_ERRORS = (
    *POSTING_ERRORS,
    OperatorActRequired,
    ConversionNotAllowed,
    ReconversionForbidden,
    ReconversionTooSmall,
    FundAccountRequired,
    ReserveInvariantViolated,
    UnknownCurrency,
)
REPLAY: dict[int | str, dict[str, Any]] = {
    200: {"model": TransactionRead, "description": "Replay of an idempotent request"}
}


@reserve_router.put(
    "/reserve",
    response_model=ReserveRead,
    responses={
        **AUTH_ERRORS,
        **problem_responses(
            UnknownCurrency,
            UnknownAccount,
            ConversionNotAllowed,
            CurrencyMismatch,
            ReserveInvariantViolated,
        ),
    },
)
async def configure_reserve(
    code: Code, body: ReserveConfig, principal: Admin, session: DbSession
) -> Any:
    """Name the issuer, euro reserve, external euro and fund accounts of a currency."""
    return await reserve.configure(
        session,
        principal,
        currency=code,
        issuer=body.issuer_account_id,
        reserve=body.reserve_account_id,
        external=body.external_account_id,
        fund=body.fund_account_id,
    )


PENDING: dict[int | str, dict[str, Any]] = {
    202: {
        "model": ApprovalRead,
        "description": "At or above the currency's four_eyes_threshold: recorded, waiting "
        "for a second operator (POST /currencies/{code}/approvals/{id}/approval)",
    }
}


async def _operator_act(
    session: AsyncSession,
    principal: Principal,
    code: str,
    body: IssuanceCreate | ReconversionCreate,
    idempotency: IdempotencyContext,
    *,
    act: str,
    amount: int,
    post: Callable[[], Awaitable[Any]],
) -> Any:
    """Post an issuance or reconversion now, or, at or above the currency's four-eyes
    threshold, record it for a second operator (202)."""
    if await acts.needs_approval(session, principal, code, act=act, amount=amount):
        return await idempotent_request(
            session,
            model=ApprovalRead,
            status_code=202,
            principal=principal,
            header_key=idempotency.header,
            request=body,
            route=idempotency.route,
            run=lambda: acts.request_approval(
                session, principal, code, act=act, account_id=body.account_id, amount=amount
            ),
        )
    return await idempotent_request(
        session,
        model=TransactionRead,
        principal=principal,
        header_key=idempotency.header,
        request=body,
        route=idempotency.route,
        run=post,
    )


@reserve_router.post(
    "/issuances",
    status_code=201,
    response_model=TransactionRead,
    responses={**REPLAY, **PENDING, **AUTH_ERRORS, **problem_responses(*CONVERSION_ERRORS)},
)
async def issue(
    code: Code,
    body: IssuanceCreate,
    principal: Issuer,
    session: DbSession,
    idempotency: Idempotency,
) -> Any:
    """Euros paid into the guarantee fund become units on the account (plus any bonus): an
    operator act; a large one waits for a second operator (202)."""
    return await _operator_act(
        session,
        principal,
        code,
        body,
        idempotency,
        act="issuance",
        amount=body.euros,
        post=lambda: acts.issue(
            session, principal, code, account_id=body.account_id, euros=body.euros
        ),
    )


@reserve_router.post(
    "/reconversions",
    status_code=201,
    response_model=TransactionRead,
    responses={**REPLAY, **PENDING, **AUTH_ERRORS, **problem_responses(*CONVERSION_ERRORS)},
)
async def reconvert(
    code: Code,
    body: ReconversionCreate,
    principal: Reconverter,
    session: DbSession,
    idempotency: Idempotency,
) -> Any:
    """Units of a merchant go back to euros, minus the fee of its category: an operator
    act; a large one waits for a second operator (202)."""
    return await _operator_act(
        session,
        principal,
        code,
        body,
        idempotency,
        act="reconversion",
        amount=body.units,
        post=lambda: acts.reconvert(
            session, principal, code, account_id=body.account_id, units=body.units
        ),
    )


@reserve_router.get(
    "/reconciliation",
    response_model=Reconciliation,
    responses={**AUTH_ERRORS, **problem_responses(ConversionNotAllowed)},
)
async def reconcile(
    code: Code,
    principal: Reader,
    session: DbSession,
    reported_bank_balance: ReportedBankBalance,
) -> Any:
    """Compare units in circulation, the reserve account and the bank's balance."""
    return await reserve.reconcile(
        session, principal, currency=code, reported=reported_bank_balance
    )
