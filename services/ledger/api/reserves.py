"""Currency operations: reserve accounts, issuance, reconversion, reconciliation, demurrage."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger import conversions, demurrage_runs, service
from services.ledger.accounts.errors import (
    CurrencyMismatch,
    UnknownAccount,
)
from services.ledger.api.transactions import POSTING_ERRORS
from services.ledger.approvals import service as approvals
from services.ledger.approvals.rules import Act, needs_second_operator
from services.ledger.approvals.schemas import ApprovalRead
from services.ledger.authority import service as authority
from services.ledger.authority.errors import OperatorActRequired
from services.ledger.currencies.errors import (
    ConversionNotAllowed,
    FundAccountRequired,
    ReconversionForbidden,
    ReconversionTooSmall,
    ReserveInvariantViolated,
    UnknownCurrency,
)
from services.ledger.currencies.schemas import (
    IssuanceCreate,
    Reconciliation,
    ReconversionCreate,
    ReserveConfig,
    ReserveRead,
)
from services.ledger.demurrage.errors import (
    DemurrageNotConfigured,
)
from services.ledger.demurrage.schemas import DemurrageRunCreate, DemurrageRunRead
from services.ledger.errors import (
    InvalidPeriod,
)
from services.ledger.http.idempotency import IdempotencyHeader, idempotent_request
from services.ledger.http.scopes import (
    AUTH_ERRORS,
    Admin,
    DemurrageOperator,
    Issuer,
    Reader,
    Reconverter,
)
from services.ledger.transactions.rules import MAX_AMOUNT
from services.ledger.transactions.schemas import TransactionRead
from shared.auth import Principal
from shared.problems import NotFound, problem_responses
from shared.service_app import DbSession

router = APIRouter(prefix="/currencies/{code}", tags=["reserves"])

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


async def _ensure_reserve_access(session: Any, principal: Principal, code: str) -> None:
    """The operator needs the currency and the euro currency its reserve is kept in."""
    principal.ensure_access("currencies", code)
    cfg = await conversions.require_reserve(session, code)
    principal.ensure_access("currencies", await conversions.euro_code(session, cfg))


@router.put(
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
    principal.ensure_access("currencies", code)
    view = await conversions.configure_reserve(
        session,
        currency=code,
        issuer=body.issuer_account_id,
        reserve=body.reserve_account_id,
        external=body.external_account_id,
        fund=body.fund_account_id,
    )
    await _ensure_reserve_access(session, principal, code)
    return view


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
    idempotency_key: str | None,
    *,
    act: Act,
    amount: int,
    post: Callable[[], Awaitable[Any]],
) -> Any:
    """Post an issuance or reconversion now, or, at or above the currency's four-eyes
    threshold, record it for a second operator (202)."""
    await _ensure_reserve_access(session, principal, code)
    authority.ensure_operator(principal, code, act=f"a {act.value}")
    route = f"POST /currencies/{code}/{'issuances' if act is Act.ISSUANCE else 'reconversions'}"
    if needs_second_operator(await service.currency_rules(session, code), amount):
        return await idempotent_request(
            session,
            model=ApprovalRead,
            status_code=202,
            principal=principal,
            header_key=idempotency_key,
            request=body,
            route=route,
            run=lambda: approvals.request(
                session,
                authority.actor(principal),
                currency=code,
                act=act,
                account_id=body.account_id,
                amount=amount,
            ),
        )
    return await idempotent_request(
        session,
        model=TransactionRead,
        principal=principal,
        header_key=idempotency_key,
        request=body,
        route=route,
        run=post,
    )


@router.post(
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
    idempotency_key: IdempotencyHeader = None,
) -> Any:
    """Euros paid into the guarantee fund become units on the account (plus any bonus): an
    operator act; a large one waits for a second operator (202)."""
    return await _operator_act(
        session,
        principal,
        code,
        body,
        idempotency_key,
        act=Act.ISSUANCE,
        amount=body.euros,
        post=lambda: conversions.issue(
            session,
            currency=code,
            account_id=body.account_id,
            euros=body.euros,
            actor=authority.actor(principal),
        ),
    )


@router.post(
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
    idempotency_key: IdempotencyHeader = None,
) -> Any:
    """Units of a merchant go back to euros, minus the fee of its category: an operator
    act; a large one waits for a second operator (202)."""
    return await _operator_act(
        session,
        principal,
        code,
        body,
        idempotency_key,
        act=Act.RECONVERSION,
        amount=body.units,
        post=lambda: conversions.reconvert(
            session,
            currency=code,
            account_id=body.account_id,
            units=body.units,
            actor=authority.actor(principal),
        ),
    )


@router.get(
    "/reconciliation",
    response_model=Reconciliation,
    responses={**AUTH_ERRORS, **problem_responses(ConversionNotAllowed)},
)
async def reconcile(
    code: Code,
    principal: Reader,
    session: DbSession,
    reported_bank_balance: Annotated[
        int, Query(ge=-MAX_AMOUNT, le=MAX_AMOUNT, description="Euro cents on the bank statement")
    ],
) -> Any:
    """Compare units in circulation, the reserve account and the bank's balance."""
    await _ensure_reserve_access(session, principal, code)
    return await conversions.reconcile(session, currency=code, reported=reported_bank_balance)


@router.post(
    "/demurrage-runs",
    response_model=DemurrageRunRead,
    responses={
        **AUTH_ERRORS,
        **problem_responses(
            UnknownCurrency, DemurrageNotConfigured, InvalidPeriod, OperatorActRequired
        ),
    },
)
async def run_demurrage(
    code: Code, body: DemurrageRunCreate, principal: DemurrageOperator, request: Request
) -> Any:
    """Charge demurrage for one closed period; asking again resumes or returns the run (an
    operator act)."""
    principal.ensure_access("currencies", code)
    authority.ensure_operator(principal, code, act="a demurrage run")
    return await demurrage_runs.run_demurrage(
        request.app.state.session_factory,
        currency=code,
        period_start=body.period_start,
        fund=body.fund_account_id,
    )


@router.get(
    "/demurrage-runs/{period_start}",
    response_model=DemurrageRunRead,
    responses={**AUTH_ERRORS, **problem_responses(NotFound)},
)
async def get_demurrage_run(
    code: Code, period_start: date, principal: Reader, session: DbSession
) -> Any:
    """Progress of a demurrage run."""
    principal.ensure_access("currencies", code)
    return await demurrage_runs.get_run(session, currency=code, period_start=period_start)
