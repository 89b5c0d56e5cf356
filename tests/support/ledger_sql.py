"""Raw SQL a test uses to write postings behind the ledger's back (to test the database's
own guards): every debit leg also needs its authority row (``posting_authorities``), which
the database demands at commit (``tg_postings_debit_authority``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

AUTHORITY = text(
    "INSERT INTO posting_authorities (transaction_id, account_id, basis, principal, amount) "
    "VALUES (:tx, :a, 'operator', 'test', :amount)"
)
AUTHORITIES_FROM_JSON = text(
    """
    INSERT INTO posting_authorities (transaction_id, account_id, basis, principal, amount)
    SELECT CAST(tx AS uuid), CAST(account AS uuid), 'operator', 'test', -amount
    FROM jsonb_to_recordset(CAST(:legs AS jsonb)) AS legs (tx text, account text, amount bigint)
    WHERE amount < 0
    """
)


async def authorise(conn: Any, tx: Any, account: Any, amount: int) -> None:
    """The authority row of one leg, if it is a debit (an operator's, as a test acts)."""
    if amount < 0:
        await conn.execute(AUTHORITY, {"tx": tx, "a": account, "amount": -amount})
