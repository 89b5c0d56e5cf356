"""Voucher programmes (M'Ra / OURA-style youth cards): rules, credits, purchases, expiry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.accounts.errors import (
    CurrencyMismatch,
    UnknownAccount,
)
from services.ledger.authority.errors import (
    NoReadAuthority,
    OperatorActRequired,
    PayoutAccountNotHeld,
)
from services.ledger.currencies.errors import (
    UnknownCurrency,
)
from services.ledger.http.idempotency import Idempotency
from services.ledger.http.keyed import KeyedAct
from services.ledger.http.pagination import (
    Cursor,
    InvalidCursor,
    Limit,
    decode_cursor,
    page,
)
from services.ledger.http.scopes import AUTH_ERRORS, Admin, Poster, Reader, Sweeper
from services.ledger.programmes.errors import (
    FunderNotApproved,
    InvalidProgrammeAccount,
    InvalidProgrammeRules,
    NotAVoucherCurrency,
    NothingToReimburse,
    ReimbursementNotConfigured,
)
from services.ledger.programmes.schemas import (
    GRANT_ERRORS,
    PROGRAMME_ERRORS,
    PURCHASE_ERRORS,
    CreditGrantCreate,
    CreditGrantRead,
    ExpirySweepRead,
    LotPage,
    ProgrammeConfig,
    ProgrammeRead,
    ProgrammeReport,
    PurchaseCreate,
    PurchaseRead,
    ReimbursementConfig,
    ReimbursementConfigRead,
    ReimbursementCreate,
    ReimbursementRead,
)
from services.ledger.programmes.service import (
    base,
    credits,
    purchases,
    reimbursements,
    report,
    sweeps,
)
from services.ledger.transactions.schemas import POSTING_ERRORS
from shared.auth import Principal
from shared.problems import Forbidden, NotFound, problem_responses
from shared.service_app import DbSession

router = APIRouter(prefix="/currencies/{code}", tags=["programmes"])

Code = Annotated[str, Path(pattern=r"^[A-Z][A-Z0-9_]{1,15}$")]


def _replay(model: type) -> dict[int | str, dict[str, Any]]:
    return {200: {"model": model, "description": "Replay of an idempotent request"}}


@dataclass(frozen=True, slots=True)
class ProgrammeAct(KeyedAct):
    """A programme act (credits, purchases, reimbursements) by a principal bound to the
    currency."""

    async def once(
        self,
        body: BaseModel,
        *,
        model: type[BaseModel],
        run: Callable[[AsyncSession, Principal], Awaitable[Any]],
    ) -> Any:
        """The act once per idempotency key (header or body) on its route; ``run`` gets the
        session and the principal."""
        self.principal.ensure_access("currencies", self.code)
        return await self.answer_once(
            body, model=model, run=lambda: run(self.session, self.principal)
        )


async def programme_act(
    code: Code, principal: Poster, session: DbSession, idempotency: Idempotency
) -> ProgrammeAct:
    return ProgrammeAct(code, principal, session, idempotency)


# ``scope="function"``: it holds the session, whose unit of work commits before the answer.
Act = Annotated[ProgrammeAct, Depends(programme_act, scope="function")]


@router.put(
    "/programme",
    response_model=ProgrammeRead,
    responses={
        **AUTH_ERRORS,
        **problem_responses(
            UnknownCurrency,
            NotAVoucherCurrency,
            InvalidProgrammeRules,
            UnknownAccount,
            CurrencyMismatch,
            InvalidProgrammeAccount,
        ),
    },
)
async def configure_programme(
    code: Code, body: ProgrammeConfig, principal: Admin, session: DbSession
) -> Any:
    """Set the voucher currency's programme: approved merchants, categories, caps, funders."""
    return await credits.configure(
        session,
        principal,
        currency=code,
        allowed_categories=body.allowed_categories,
        category_caps=body.category_caps,
        cap_period=body.cap_period,
        merchants=body.approved_merchants,
        funders=body.funders,
    )


@router.get(
    "/programme",
    response_model=ProgrammeRead,
    responses={**AUTH_ERRORS, **problem_responses(*PROGRAMME_ERRORS)},
)
async def get_programme(code: Code, principal: Reader, session: DbSession) -> Any:
    """The voucher currency's programme rules."""
    return await base.read_programme(session, principal, code)


@router.post(
    "/credits",
    status_code=201,
    response_model=CreditGrantRead,
    responses={**_replay(CreditGrantRead), **AUTH_ERRORS, **problem_responses(*GRANT_ERRORS)},
)
async def grant_credits(body: CreditGrantCreate, act: Act) -> Any:
    """A funder grants a beneficiary credits, as one lot usable until ``expires_at``."""
    return await act.once(
        body,
        model=CreditGrantRead,
        run=lambda session, principal: credits.grant_request(
            session,
            principal,
            currency=act.code,
            funder=body.funder_account_id,
            beneficiary=body.beneficiary_account_id,
            amount=body.amount,
            expires_at=body.expires_at,
            categories=body.categories,
        ),
    )


@router.get(
    "/credits",
    response_model=LotPage,
    responses={
        **AUTH_ERRORS,
        **problem_responses(
            UnknownCurrency,
            NotAVoucherCurrency,
            InvalidCursor,
            OperatorActRequired,
            NoReadAuthority,
            NotFound,
        ),
    },
)
async def list_credits(
    code: Code,
    principal: Reader,
    session: DbSession,
    beneficiary: Annotated[UUID | None, Query(description="Only this account's lots")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Any:
    """Credit lots of the currency (its operator's read) or of one beneficiary (readable
    by whoever may read that account), oldest first."""
    items = await credits.list_lots(
        session,
        principal,
        currency=code,
        beneficiary=beneficiary,
        after=decode_cursor(cursor, UUID),
        limit=limit,
    )
    return page(items, limit=limit, key=lambda lot: lot["id"])


@router.post(
    "/purchases",
    status_code=201,
    response_model=PurchaseRead,
    responses={**_replay(PurchaseRead), **AUTH_ERRORS, **problem_responses(*PURCHASE_ERRORS)},
)
async def purchase(body: PurchaseCreate, act: Act) -> Any:
    """A beneficiary pays an approved merchant from its lots, earliest expiry first."""
    return await act.once(
        body,
        model=PurchaseRead,
        run=lambda session, principal: purchases.purchase_request(
            session,
            principal,
            currency=act.code,
            beneficiary=body.beneficiary_account_id,
            merchant=body.merchant_account_id,
            amount=body.amount,
            category=body.category,
        ),
    )


@router.post(
    "/expiry-sweeps",
    response_model=ExpirySweepRead,
    responses={
        **AUTH_ERRORS,
        **problem_responses(*POSTING_ERRORS, *PROGRAMME_ERRORS, OperatorActRequired),
    },
)
async def sweep_expired(code: Code, principal: Sweeper, session: DbSession) -> Any:
    """Return what expired lots still hold to their funders; repeating it finds nothing
    (an operator act)."""
    return await sweeps.sweep_request(session, principal, code)


@router.get(
    "/programme-report",
    response_model=ProgrammeReport,
    responses={**AUTH_ERRORS, **problem_responses(*PROGRAMME_ERRORS, InvalidCursor)},
)
async def programme_report(
    code: Code,
    principal: Reader,
    session: DbSession,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Any:
    """Per funder (keyset by funder id): granted, spent by category and merchant, swept."""
    items = await report.report(
        session, principal, currency=code, after=decode_cursor(cursor, UUID), limit=limit
    )
    return {
        "currency": code,
        **page(items, limit=limit, key=lambda item: item["funder_account_id"]),
    }


@router.put(
    "/programme/reimbursement",
    response_model=ReimbursementConfigRead,
    responses={
        **AUTH_ERRORS,
        **problem_responses(
            *PROGRAMME_ERRORS,
            UnknownAccount,
            CurrencyMismatch,
            InvalidProgrammeAccount,
            FunderNotApproved,
        ),
    },
)
async def configure_reimbursement(
    code: Code, body: ReimbursementConfig, principal: Admin, session: DbSession
) -> Any:
    """Name each funder's euro account and the voucher issuer that retires bought-back units."""
    return await reimbursements.configure(
        session,
        currency=code,
        issuer=body.issuer_account_id,
        euro_accounts={a.funder_account_id: a.euro_account_id for a in body.funder_euro_accounts},
        principal=principal,
    )


@router.post(
    "/reimbursements",
    status_code=201,
    response_model=ReimbursementRead,
    responses={
        **_replay(ReimbursementRead),
        **AUTH_ERRORS,
        **problem_responses(
            *POSTING_ERRORS,
            *PROGRAMME_ERRORS,
            ReimbursementNotConfigured,
            NothingToReimburse,
            Forbidden,
            OperatorActRequired,
            PayoutAccountNotHeld,
        ),
    },
)
async def reimburse_merchant(body: ReimbursementCreate, act: Act) -> Any:
    """Buy back in euros the voucher units a merchant received, each funder paying its share
    (an operator act; the euros go to an account held by the merchant's holder)."""
    reimbursements.ensure_may_reimburse(act.principal, act.code)
    return await act.once(
        body,
        model=ReimbursementRead,
        run=lambda session, principal: reimbursements.reimburse(
            session,
            currency=act.code,
            merchant=body.merchant_account_id,
            merchant_euro_account=body.merchant_euro_account_id,
            principal=principal,
        ),
    )
