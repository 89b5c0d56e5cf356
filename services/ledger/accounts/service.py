"""Use cases of accounts: open one, change its status, credit limit or holder; find the
account a request names; read balances, history and statements under the caller's tenancy
and authority.

An account in the URL that does not exist is a missing resource (404, `require_account`);
an account named in a body is a bad reference inside a valid request (422
``unknown-account``, `named_account`), the same answer whichever operation names it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.ledger.accounts import repository as repo
from services.ledger.accounts.errors import CreditLimitExceeded, UnknownAccount
from services.ledger.accounts.rules import (
    AccountStatus,
    AccountType,
    bounds_for,
    check_closable,
    check_credit_limit,
    statement_csv,
    transition_status,
)
from services.ledger.authority.rules import holds_or_operates
from services.ledger.authority.service import checks as authority
from services.ledger.currencies.service.registry import currency_rules
from services.ledger.database.outbox import emit
from services.ledger.errors import InvalidPeriod, LedgerDomainError
from shared.auth import Principal
from shared.events.catalog.ledger import (
    AccountClosed,
    AccountFrozen,
    AccountOpened,
    AccountReactivated,
)
from shared.ids import uuid7
from shared.problems import NotFound

STATUS_EVENTS: dict[AccountStatus, type[AccountFrozen | AccountReactivated | AccountClosed]] = {
    AccountStatus.FROZEN: AccountFrozen,
    AccountStatus.ACTIVE: AccountReactivated,
    AccountStatus.CLOSED: AccountClosed,
}
STATEMENT_MAX = 10_000


async def open_account(
    session: AsyncSession,
    *,
    currency: str,
    account_type: AccountType,
    credit_limit: int | None,
    holder: str,
    **values: Any,
) -> RowMapping:
    """Open an account held by ``holder`` (a client id): the principal that may debit it
    and read it without a mandate (`services.ledger.authority`)."""
    rules = await currency_rules(session, currency)
    if credit_limit is None:
        credit_limit = rules.credit_limit.default_limit if rules.credit_limit else 0
    bounds = bounds_for(account_type=account_type, rules=rules, credit_limit=credit_limit)
    account_id = uuid7()
    await repo.insert_account(
        session,
        lower=bounds.lower,
        upper=bounds.upper,
        id=account_id,
        currency=currency,
        type=account_type.value,
        credit_limit=credit_limit,
        holder=holder,
        **values,
    )
    row = await repo.get_account(session, account_id)
    assert row is not None
    await emit(
        session,
        AccountOpened(
            account_id=str(account_id),
            currency=currency,
            account_type=account_type.value,
            territory=row["territory"],
        ),
        str(account_id),
    )
    return row


async def change_status(
    session: AsyncSession, principal: Principal, account_id: UUID, target: AccountStatus
) -> RowMapping:
    """Freeze, reactivate or close an account the caller may see (the operator's act)."""
    await visible_account(session, principal, account_id)
    account = await require_account(session, account_id, lock=True)
    transition_status(AccountStatus(account["status"]), target)
    if target is AccountStatus.CLOSED:
        check_closable(posted=account["posted"], held=account["held"])
    await repo.set_account_status(session, account["id"], target.value)
    event = STATUS_EVENTS[target](account_id=str(account["id"]))
    await emit(session, event, str(account["id"]))
    return await require_account(session, account["id"])


async def change_credit_limit(
    session: AsyncSession, principal: Principal, account_id: UUID, *, credit_limit: int, reason: str
) -> RowMapping:
    """Set the credit line of an account the caller may see; the change is kept in its
    history under the caller's name (the operator's act)."""
    await visible_account(session, principal, account_id)
    account = await require_account(session, account_id, lock=True)
    rules = await currency_rules(session, account["currency"])
    check_credit_limit(rules=rules, credit_limit=credit_limit)
    bounds = bounds_for(
        account_type=AccountType(account["type"]), rules=rules, credit_limit=credit_limit
    )
    lower = bounds.lower
    if lower is not None and account["posted"] - account["held"] < lower:
        raise CreditLimitExceeded(
            "the account is already below the new limit; settle it first",
            available=account["posted"] - account["held"],
            lower_bound=lower,
        )
    await repo.set_credit_limit(
        session,
        account_id=account["id"],
        old_limit=account["credit_limit"],
        new_limit=credit_limit,
        lower=lower,
        reason=reason,
        changed_by=principal.client_id,
    )
    return await require_account(session, account["id"])


async def change_holder(
    session: AsyncSession, principal: Principal, account_id: UUID, holder: str
) -> RowMapping:
    """Name the principal that holds an account the caller may see (the operator's act)."""
    await visible_account(session, principal, account_id)
    await repo.set_holder(session, account_id, holder)
    return await require_account(session, account_id)


# --- the account a request names -----------------------------------------------------------


async def find_account(session: AsyncSession, account_id: UUID) -> RowMapping | None:
    """The account with its balance, or None."""
    return await repo.get_account(session, account_id)


async def require_account(
    session: AsyncSession, account_id: UUID, *, lock: bool = False
) -> RowMapping:
    row = await repo.get_account(session, account_id, lock=lock)
    if row is None:
        raise NotFound(f"no account {account_id}")
    return row


async def named_account(
    session: AsyncSession, account_id: UUID, *, role: str = "", lock: bool = False
) -> RowMapping:
    """``role`` names the account in the error ("no merchant account …")."""
    row = await repo.get_account(session, account_id, lock=lock)
    if row is None:
        what = f"{role} account" if role else "account"
        raise UnknownAccount(f"no {what} {account_id}", account_id=str(account_id))
    return row


async def visible_account(
    session: AsyncSession, principal: Principal, account_id: UUID
) -> RowMapping:
    """The account, if the caller may see its currency (404 if it does not exist, 403 if
    the caller's tenancy excludes it)."""
    row = await require_account(session, account_id)
    principal.ensure_access("currencies", row["currency"])
    return row


async def readable_account(
    session: AsyncSession, principal: Principal, account_id: UUID
) -> RowMapping:
    """The account, if the caller may read its postings: bound to its currency (403), and
    its holder, its operator or a mandate that includes reading (403)."""
    row = await visible_account(session, principal, account_id)
    await authority.ensure_may_read(session, authority.actor(principal), row)
    return row


async def readable_party(
    session: AsyncSession, principal: Principal, accounts: Iterable[UUID]
) -> None:
    """Refuse unless the caller may read at least one of ``accounts`` (a hold's payer or
    payee, a transaction's legs)."""
    refusal: Exception | None = None
    for account_id in accounts:
        try:
            await readable_account(session, principal, account_id)
            return
        except LedgerDomainError as exc:
            refusal = exc
    if refusal is not None:
        raise refusal


# --- reads ------------------------------------------------------------------------------------


async def list_accounts(
    session: AsyncSession, principal: Principal, *, currency: str, after: UUID | None, limit: int
) -> Sequence[RowMapping]:
    """Accounts of one currency, oldest first: all of them for its operator, the caller's
    own (those it holds) for anyone else."""
    principal.ensure_access("currencies", currency)
    operator = authority.actor(principal).operates(currency)
    return await repo.list_accounts(
        session,
        currency=currency,
        after=after,
        limit=limit,
        holder=None if operator else principal.client_id,
    )


async def _ensure_balance_readable(
    factory: async_sessionmaker[AsyncSession], principal: Principal, account_id: UUID, row: Any
) -> None:
    """`authority.ensure_may_read` for the balance reads, which run without a session: one
    is opened only when the caller is neither holder nor operator (a read mandate)."""
    account = {"id": account_id, "currency": row["currency"], "holder": row["holder"]}
    who = authority.actor(principal)
    if holds_or_operates(who, account):
        return
    async with factory() as session:
        await authority.ensure_may_read(session, who, account)


async def current_balance(
    engine: AsyncEngine,
    factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    account_id: UUID,
) -> Any:
    """Currency, posted and held balance of an account the caller may read: one statement
    on a pooled connection (no session, no transaction), tenancy checked on its row."""
    row = await repo.current_balance(engine, account_id)
    if row is None:
        raise NotFound(f"no account {account_id}")
    principal.ensure_access("currencies", row["currency"])
    await _ensure_balance_readable(factory, principal, account_id, row)
    return row


async def balance_at(
    engine: AsyncEngine,
    factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    account_id: UUID,
    at: datetime,
) -> Any:
    """Currency and posted balance at ``at`` of an account the caller may read."""
    row = await repo.balance_at_with_currency(engine, account_id=account_id, moment=at)
    if row is None:
        raise NotFound(f"no account {account_id}")
    principal.ensure_access("currencies", row["currency"])
    await _ensure_balance_readable(factory, principal, account_id, row)
    return row


async def history(
    session: AsyncSession, principal: Principal, account_id: UUID, *, after: int | None, limit: int
) -> Sequence[RowMapping]:
    """The postings of an account the caller may read, oldest first."""
    await readable_account(session, principal, account_id)
    return await repo.account_history(session, account_id=account_id, after=after, limit=limit)


async def statement(
    session: AsyncSession,
    principal: Principal,
    account_id: UUID,
    *,
    since: datetime,
    until: datetime,
) -> dict[str, Any]:
    """Opening balance, entries and closing balance over ``[since, until)``."""
    row = await readable_account(session, principal, account_id)
    if since.tzinfo is None or until.tzinfo is None or since >= until:
        raise InvalidPeriod("need timezone-aware since < until")
    opening = await repo.balance_at(session, account_id=account_id, moment=since, inclusive=False)
    entries = await repo.account_history(
        session, account_id=account_id, after=None, limit=STATEMENT_MAX, since=since, until=until
    )
    credits = sum(e["amount"] for e in entries if e["amount"] > 0)
    debits = -sum(e["amount"] for e in entries if e["amount"] < 0)
    return {
        "account_id": account_id,
        "currency": row["currency"],
        "since": since,
        "until": until,
        "opening_balance": opening,
        "closing_balance": opening + credits - debits,
        "total_credits": credits,
        "total_debits": debits,
        "entries": [dict(e) for e in entries],
    }


async def statement_as_csv(
    session: AsyncSession,
    principal: Principal,
    account_id: UUID,
    *,
    since: datetime,
    until: datetime,
) -> str:
    """`statement` as CSV: opening row, entries, closing row."""
    data = await statement(session, principal, account_id, since=since, until=until)
    return statement_csv(data)


async def limit_history(
    session: AsyncSession, principal: Principal, account_id: UUID, *, after: int | None, limit: int
) -> Sequence[RowMapping]:
    """Credit limit changes of an account the caller may read, oldest first."""
    await readable_account(session, principal, account_id)
    return await repo.limit_history(session, account_id=account_id, after=after, limit=limit)
