"""Currencies: registered by an operator with their rules (`router`); and for euro-backed
ones, the reserve accounts, issuance, reconversion and reconciliation (`reserve_router`).
HTTP only."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
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
from services.ledger.http.idempotency import Idempotency
from services.ledger.http.keyed import KeyedAct
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


@dataclass(frozen=True, slots=True)
class ReserveAct(KeyedAct):
    """An issuance or a reconversion: posted now, or, at or above the currency's
    four-eyes threshold, recorded for a second operator (202)."""

    async def once(
        self,
        body: IssuanceCreate | ReconversionCreate,
        *,
        act: str,
        amount: int,
        post: Callable[[AsyncSession, Principal, str], Awaitable[Any]],
    ) -> Any:
        """The act once per idempotency key, waiting for approval when it is large."""
        session, principal, code = self.session, self.principal, self.code
        if await acts.needs_approval(session, principal, code, act=act, amount=amount):
            return await self.answer_once(
                body,
                model=ApprovalRead,
                status_code=202,
                run=lambda: acts.request_approval(
                    session, principal, code, act=act, account_id=body.account_id, amount=amount
                ),
            )
        return await self.answer_once(
            body, model=TransactionRead, run=lambda: post(session, principal, code)
        )


async def issuance_act(
    code: Code, principal: Issuer, session: DbSession, idempotency: Idempotency
) -> ReserveAct:
    return ReserveAct(code, principal, session, idempotency)


async def reconversion_act(
    code: Code, principal: Reconverter, session: DbSession, idempotency: Idempotency
) -> ReserveAct:
    return ReserveAct(code, principal, session, idempotency)


# ``scope="function"``: they hold the session, whose unit of work commits before the answer.
IssuanceAct = Annotated[ReserveAct, Depends(issuance_act, scope="function")]
ReconversionAct = Annotated[ReserveAct, Depends(reconversion_act, scope="function")]


@reserve_router.post(
    "/issuances",
    status_code=201,
    response_model=TransactionRead,
    responses={**REPLAY, **PENDING, **AUTH_ERRORS, **problem_responses(*CONVERSION_ERRORS)},
)
async def issue(body: IssuanceCreate, reserve_act: IssuanceAct) -> Any:
    """Euros paid into the guarantee fund become units on the account (plus any bonus): an
    operator act; a large one waits for a second operator (202)."""
    return await reserve_act.once(
        body,
        act="issuance",
        amount=body.euros,
        post=lambda session, principal, code: acts.issue(
            session, principal, code, account_id=body.account_id, euros=body.euros
        ),
    )


@reserve_router.post(
    "/reconversions",
    status_code=201,
    response_model=TransactionRead,
    responses={**REPLAY, **PENDING, **AUTH_ERRORS, **problem_responses(*CONVERSION_ERRORS)},
)
async def reconvert(body: ReconversionCreate, reserve_act: ReconversionAct) -> Any:
    """Units of a merchant go back to euros, minus the fee of its category: an operator
    act; a large one waits for a second operator (202)."""
    return await reserve_act.once(
        body,
        act="reconversion",
        amount=body.units,
        post=lambda session, principal, code: acts.reconvert(
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
