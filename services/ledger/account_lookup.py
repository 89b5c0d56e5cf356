"""Finding the account a request names, with the error its place in the request calls for.

An account in the URL that does not exist is a missing resource (404, `require_account`);
an account named in a body is a bad reference inside a valid request (422
``unknown-account``, `named_account`), the same answer whichever operation names it.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.accounts.errors import UnknownAccount
from services.ledger.store import repository as repo
from shared.problems import NotFound


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
