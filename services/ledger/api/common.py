"""Tenancy checks the routers share, until each concept's service makes them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.account_lookup import require_account
from services.ledger.authority import service as authority
from services.ledger.errors import LedgerDomainError
from services.ledger.store import repository as repo
from shared.auth import Principal
from shared.problems import (
    NotFound,
)

T = TypeVar("T")


async def visible_account(session: Any, principal: Principal, account_id: UUID) -> Any:
    """The account, if the caller may see its currency (404 if it does not exist, 403 if
    the caller's tenancy excludes it)."""
    row = await require_account(session, account_id)
    principal.ensure_access("currencies", row["currency"])
    return row


async def readable_account(session: Any, principal: Principal, account_id: UUID) -> Any:
    """The account, if the caller may read its postings: bound to its currency (403), and
    its holder, its operator or a mandate that includes reading (403)."""
    row = await visible_account(session, principal, account_id)
    await authority.ensure_may_read(session, authority.actor(principal), row)
    return row


async def readable_party(session: Any, principal: Principal, accounts: Iterable[UUID]) -> None:
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


AUDIT = "ledger:audit"
"""Reads every account of the currencies a client is bound to (an accountant, an auditor)."""


def ensure_operator_read(principal: Principal, currency: str, *, what: str) -> None:
    """Currency-wide lists of members' movements are for the operator, or an auditor
    (``ledger:audit`` bound to the currency)."""
    if AUDIT in principal.scopes and principal.may_access("currencies", currency):
        return
    authority.ensure_operator(principal, currency, act=f"reading {what}")


async def visible_currency(session: AsyncSession, principal: Principal, code: str) -> Any:
    """The currency, once the caller's tenant binding allows it (403) and it exists (404)."""
    principal.ensure_access("currencies", code)
    row = await repo.get_currency(session, code)
    if row is None:
        raise NotFound(f"no currency {code}")
    return row
