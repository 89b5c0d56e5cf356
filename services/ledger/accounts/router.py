"""Accounts: opening, status, credit limits, balances, history and statements."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, NamedTuple
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.engine import RowMapping

from services.ledger.accounts import service
from services.ledger.accounts.errors import (
    AccountNotEmpty,
    CreditLimitExceeded,
    CreditLimitOutOfPolicy,
    InvalidStatusTransition,
)
from services.ledger.accounts.schemas import (
    AccountCreate,
    AccountPage,
    AccountRead,
    BalanceRead,
    CreditLimitChange,
    HistoryPage,
    HolderChange,
    LimitChangePage,
    Statement,
    StatusChange,
)
from services.ledger.authority.errors import NoReadAuthority
from services.ledger.currencies.errors import UnknownCurrency
from services.ledger.errors import InvalidPeriod
from services.ledger.http.media import CSV_MEDIA_TYPE, CsvResponse, attachment
from services.ledger.http.pagination import (
    InvalidCursor,
    PageOf50,
)
from services.ledger.http.schemas import CODE
from services.ledger.http.scopes import AUTH_ERRORS, Admin, Reader
from services.ledger.instants import json_instant
from shared.problems import NotFound, problem_responses
from shared.service_app import DbSession
from shared.strict_types import IsoInstant

router = APIRouter(prefix="/accounts", tags=["accounts"])


class Period(NamedTuple):
    since: datetime
    until: datetime


def statement_period(
    since: Annotated[IsoInstant, Query(description="Start (inclusive, timezone-aware)")],
    until: Annotated[IsoInstant, Query(description="End (exclusive, timezone-aware)")],
) -> Period:
    """``[since, until)`` of a statement, read from the query alike by its JSON and CSV forms."""
    return Period(since, until)


StatementPeriod = Annotated[Period, Depends(statement_period)]


def account_view(row: RowMapping) -> dict[str, Any]:
    view = {k: row[k] for k in AccountRead.model_fields if k != "available"}
    view["available"] = row["posted"] - row["held"]
    return view


@router.post(
    "",
    status_code=201,
    response_model=AccountRead,
    responses={**AUTH_ERRORS, **problem_responses(UnknownCurrency, CreditLimitOutOfPolicy)},
)
async def open_account(body: AccountCreate, principal: Admin, session: DbSession) -> Any:
    """Open an account in a currency; bounds follow its type and the currency's rules."""
    principal.ensure_access("currencies", body.currency)
    row = await service.open_account(
        session,
        currency=body.currency,
        holder=body.holder or principal.client_id,
        account_type=body.type,
        credit_limit=body.credit_limit,
        name=body.name,
        territory=body.territory,
        merchant_category=body.merchant_category,
        metadata=body.metadata,
    )
    return account_view(row)


@router.get(
    "", response_model=AccountPage, responses={**AUTH_ERRORS, **problem_responses(InvalidCursor)}
)
async def list_accounts(
    principal: Reader,
    session: DbSession,
    currency: Annotated[str, Query(pattern=CODE)],
    paging: PageOf50,
) -> Any:
    """Accounts of one currency, oldest first: all of them for its operator, the caller's
    own (those it holds) for anyone else."""
    rows = await service.list_accounts(
        session, principal, currency=currency, after=paging.after(UUID), limit=paging.limit
    )
    return paging.page_of(map(account_view, rows), "id")


@router.get(
    "/{account_id}",
    response_model=AccountRead,
    responses={**AUTH_ERRORS, **problem_responses(NotFound, NoReadAuthority)},
)
async def get_account(account_id: UUID, principal: Reader, session: DbSession) -> Any:
    """One account with its current balance."""
    return account_view(await service.readable_account(session, principal, account_id))


@router.get(
    "/{account_id}/balance",
    response_model=BalanceRead,
    responses={**AUTH_ERRORS, **problem_responses(NotFound, InvalidPeriod, NoReadAuthority)},
)
async def get_balance(
    account_id: UUID,
    principal: Reader,
    request: Request,
    at: Annotated[IsoInstant | None, Query(description="A past instant (timezone-aware)")] = None,
) -> Any:
    """Posted, held and available balance; with ``at``, the posted balance at that instant."""
    # The hottest read of the ledger: one statement on a pooled connection (no session,
    # no transaction), tenancy checked on the row it returns, and the body written
    # directly (``response_model`` still documents it). Interpolation is safe: the id is a
    # parsed UUID, the currency matches ``ck_currencies_code``, the rest are integers and
    # an ISO instant.
    engine, factory = request.app.state.engine, request.app.state.session_factory
    if at is None or at.tzinfo is None:
        row = await service.current_balance(engine, factory, principal, account_id)
        if at is not None:
            raise InvalidPeriod("at must carry a time zone")
        posted, held = row["posted"], row["held"]
        return Response(
            f'{{"account_id":"{account_id}","currency":"{row["currency"]}","posted":{posted},'
            f'"held":{held},"available":{posted - held},"at":null}}',
            media_type="application/json",
        )
    row = await service.balance_at(engine, factory, principal, account_id, at)
    posted = row["posted"]
    return Response(
        f'{{"account_id":"{account_id}","currency":"{row["currency"]}","posted":{posted},'
        f'"held":0,"available":{posted},"at":"{json_instant(at)}"}}',
        media_type="application/json",
    )


@router.get(
    "/{account_id}/postings",
    response_model=HistoryPage,
    responses={**AUTH_ERRORS, **problem_responses(NotFound, InvalidCursor, NoReadAuthority)},
)
async def account_history(
    account_id: UUID, principal: Reader, session: DbSession, paging: PageOf50
) -> Any:
    """The account's postings, oldest first."""
    rows = await service.history(
        session, principal, account_id, after=paging.after(int), limit=paging.limit
    )
    return paging.page_of(rows, "seq")


@router.get(
    "/{account_id}/statement",
    response_model=Statement,
    responses={**AUTH_ERRORS, **problem_responses(NotFound, InvalidPeriod, NoReadAuthority)},
)
async def statement(
    account_id: UUID, principal: Reader, session: DbSession, period: StatementPeriod
) -> Any:
    """Opening balance, entries and closing balance over ``[since, until)``."""
    since, until = period
    return await service.statement(session, principal, account_id, since=since, until=until)


@router.get(
    "/{account_id}/statement.csv",
    response_class=CsvResponse,
    responses={
        200: {"description": "The statement as CSV: opening row, entries, closing row"},
        **AUTH_ERRORS,
        **problem_responses(NotFound, InvalidPeriod, NoReadAuthority),
    },
)
async def statement_as_csv(
    account_id: UUID, principal: Reader, session: DbSession, period: StatementPeriod
) -> Any:
    """The statement over ``[since, until)`` as CSV, for spreadsheets and accountants."""
    since, until = period
    text = await service.statement_as_csv(session, principal, account_id, since=since, until=until)
    name = f"statement-{account_id}-{since:%Y%m%d}-{until:%Y%m%d}.csv"
    return CsvResponse(
        text,
        media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
        headers=attachment(name),
    )


@router.put(
    "/{account_id}/holder",
    response_model=AccountRead,
    responses={**AUTH_ERRORS, **problem_responses(NotFound)},
)
async def change_holder(
    account_id: UUID, body: HolderChange, principal: Admin, session: DbSession
) -> Any:
    """Name the principal that holds an account (the operator's act: a member changing
    wallet app, an account opened before its holder had a client)."""
    return account_view(await service.change_holder(session, principal, account_id, body.holder))


@router.post(
    "/{account_id}/status",
    response_model=AccountRead,
    responses={
        **AUTH_ERRORS,
        **problem_responses(NotFound, InvalidStatusTransition, AccountNotEmpty),
    },
)
async def change_status(
    account_id: UUID, body: StatusChange, principal: Admin, session: DbSession
) -> Any:
    """Freeze (a lost card: no more debits), reactivate or close an account."""
    return account_view(await service.change_status(session, principal, account_id, body.status))


@router.put(
    "/{account_id}/credit-limit",
    response_model=AccountRead,
    responses={
        **AUTH_ERRORS,
        **problem_responses(NotFound, CreditLimitOutOfPolicy, CreditLimitExceeded),
    },
)
async def change_credit_limit(
    account_id: UUID, body: CreditLimitChange, principal: Admin, session: DbSession
) -> Any:
    """Set a mutual-credit line; every change is kept in the account's limit history."""
    updated = await service.change_credit_limit(
        session, principal, account_id, credit_limit=body.credit_limit, reason=body.reason
    )
    return account_view(updated)


@router.get(
    "/{account_id}/credit-limit/history",
    response_model=LimitChangePage,
    responses={**AUTH_ERRORS, **problem_responses(NotFound, InvalidCursor, NoReadAuthority)},
)
async def credit_limit_history(
    account_id: UUID, principal: Reader, session: DbSession, paging: PageOf50
) -> Any:
    """Credit limit changes, oldest first."""
    changes = await service.limit_history(
        session, principal, account_id, after=paging.after(int), limit=paging.limit
    )
    return paging.page_of(changes, "id")
