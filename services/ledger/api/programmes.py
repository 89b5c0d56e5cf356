"""Voucher programmes (M'Ra / OURA-style youth cards): rules, credits, purchases, expiry."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query

from services.ledger import programme_credits as pc
from services.ledger import reimbursements
from services.ledger.accounts.errors import (
    CurrencyMismatch,
    UnknownAccount,
)
from services.ledger.api.common import ensure_operator_read, readable_account
from services.ledger.authority.errors import (
    NoReadAuthority,
    OperatorActRequired,
    PayoutAccountNotHeld,
)
from services.ledger.authority.service import checks as authority
from services.ledger.currencies.errors import (
    UnknownCurrency,
)
from services.ledger.http.idempotency import IdempotencyHeader, idempotent_request
from services.ledger.http.pagination import (
    Cursor,
    InvalidCursor,
    Limit,
    decode_cursor,
    page,
)
from services.ledger.http.scopes import AUTH_ERRORS, Admin, Poster, Reader, Sweeper
from services.ledger.programmes.errors import (
    CategoryCapExceeded,
    CategoryNotAllowed,
    FunderNotApproved,
    InsufficientVoucherCredit,
    InvalidLotExpiry,
    InvalidProgrammeAccount,
    InvalidProgrammeRules,
    MerchantNotApproved,
    NotAVoucherCurrency,
    NothingToReimburse,
    ProgrammeNotConfigured,
    ReimbursementNotConfigured,
)
from services.ledger.programmes.schemas import (
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
from services.ledger.transactions.schemas import POSTING_ERRORS
from shared.problems import Forbidden, NotFound, problem_responses
from shared.service_app import DbSession

router = APIRouter(prefix="/currencies/{code}", tags=["programmes"])

Code = Annotated[str, Path(pattern=r"^[A-Z][A-Z0-9_]{1,15}$")]
PROGRAMME_ERRORS = (UnknownCurrency, NotAVoucherCurrency, ProgrammeNotConfigured)
GRANT_ERRORS = (
    *POSTING_ERRORS,
    *PROGRAMME_ERRORS,
    FunderNotApproved,
    InvalidProgrammeAccount,
    InvalidLotExpiry,
    CategoryNotAllowed,
)
PURCHASE_ERRORS = (
    *POSTING_ERRORS,
    *PROGRAMME_ERRORS,
    InvalidProgrammeAccount,
    MerchantNotApproved,
    CategoryNotAllowed,
    CategoryCapExceeded,
    InsufficientVoucherCredit,
)


def _replay(model: type) -> dict[int | str, dict[str, Any]]:
    return {200: {"model": model, "description": "Replay of an idempotent request"}}


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
    principal.ensure_access("currencies", code)
    return await pc.configure(
        session,
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
    principal.ensure_access("currencies", code)
    return (await pc.load_programme(session, code)).view()


@router.post(
    "/credits",
    status_code=201,
    response_model=CreditGrantRead,
    responses={**_replay(CreditGrantRead), **AUTH_ERRORS, **problem_responses(*GRANT_ERRORS)},
)
async def grant_credits(
    code: Code,
    body: CreditGrantCreate,
    principal: Poster,
    session: DbSession,
    idempotency_key: IdempotencyHeader = None,
) -> Any:
    """A funder grants a beneficiary credits, as one lot usable until ``expires_at``."""
    principal.ensure_access("currencies", code)
    return await idempotent_request(
        session,
        model=CreditGrantRead,
        principal=principal,
        header_key=idempotency_key,
        request=body,
        route=f"POST /currencies/{code}/credits",
        run=lambda: pc.grant(
            session,
            currency=code,
            funder=body.funder_account_id,
            beneficiary=body.beneficiary_account_id,
            amount=body.amount,
            expires_at=body.expires_at,
            categories=body.categories,
            actor=authority.actor(principal),
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
    principal.ensure_access("currencies", code)
    if beneficiary is None:
        ensure_operator_read(principal, code, what="every credit lot of a currency")
    else:
        await readable_account(session, principal, beneficiary)
    items = await pc.lots(
        session,
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
async def purchase(
    code: Code,
    body: PurchaseCreate,
    principal: Poster,
    session: DbSession,
    idempotency_key: IdempotencyHeader = None,
) -> Any:
    """A beneficiary pays an approved merchant from its lots, earliest expiry first."""
    principal.ensure_access("currencies", code)
    return await idempotent_request(
        session,
        model=PurchaseRead,
        principal=principal,
        header_key=idempotency_key,
        request=body,
        route=f"POST /currencies/{code}/purchases",
        run=lambda: pc.purchase(
            session,
            currency=code,
            beneficiary=body.beneficiary_account_id,
            merchant=body.merchant_account_id,
            amount=body.amount,
            category=body.category,
            actor=authority.actor(principal),
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
    principal.ensure_access("currencies", code)
    authority.ensure_operator(principal, code, act="an expiry sweep")
    return await pc.sweep(session, currency=code, actor=authority.actor(principal))


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
    principal.ensure_access("currencies", code)
    items = await pc.report(session, currency=code, after=decode_cursor(cursor, UUID), limit=limit)
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
    principal.ensure_access("currencies", code)
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
async def reimburse_merchant(
    code: Code,
    body: ReimbursementCreate,
    principal: Poster,
    session: DbSession,
    idempotency_key: IdempotencyHeader = None,
) -> Any:
    """Buy back in euros the voucher units a merchant received, each funder paying its share
    (an operator act; the euros go to an account held by the merchant's holder)."""
    principal.ensure_access("currencies", code)
    authority.ensure_operator(principal, code, act="a merchant reimbursement")
    return await idempotent_request(
        session,
        model=ReimbursementRead,
        principal=principal,
        header_key=idempotency_key,
        request=body,
        route=f"POST /currencies/{code}/reimbursements",
        run=lambda: reimbursements.reimburse(
            session,
            currency=code,
            merchant=body.merchant_account_id,
            merchant_euro_account=body.merchant_euro_account_id,
            principal=principal,
        ),
    )
