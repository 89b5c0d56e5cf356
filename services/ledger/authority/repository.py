"""Every SQL statement of account authority: holders, mandates, grant links."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import and_, insert, select, text, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.database.tables import account_mandates, accounts, grant_links

_DEBIT_MANDATES = text(
    """
    SELECT m.*, COALESCE((
        SELECT sum(pa.amount) FROM posting_authorities pa
        WHERE pa.mandate_id = m.id
          AND pa.recorded_at >= date_trunc(m.period, CAST(:now AS timestamptz), 'UTC')
    ), 0)::bigint AS used
    FROM account_mandates m
    WHERE m.grantee = :grantee AND m.account_id = ANY(CAST(:accounts AS uuid[]))
      AND m.may_debit AND m.revoked_at IS NULL AND m.expires_at > CAST(:now AS timestamptz)
    ORDER BY m.account_id, m.created_at DESC, m.id
    FOR UPDATE OF m
    """
)


async def lock_debit_mandates(
    session: AsyncSession, *, grantee: str, account_ids: Sequence[UUID], now: datetime
) -> dict[UUID, RowMapping]:
    """The newest active debit mandate of ``grantee`` on each account, locked (so two
    concurrent debits under one mandate see each other's use), with what was debited under
    it in its current period (``used``)."""
    rows = await session.execute(
        _DEBIT_MANDATES, {"grantee": grantee, "accounts": sorted(set(account_ids)), "now": now}
    )
    found: dict[UUID, RowMapping] = {}
    for row in rows.mappings():
        found.setdefault(row["account_id"], row)
    return found


async def has_read_mandate(
    session: AsyncSession, *, grantee: str, account_id: UUID, now: datetime
) -> bool:
    stmt = select(account_mandates.c.id).where(
        account_mandates.c.grantee == grantee,
        account_mandates.c.account_id == account_id,
        account_mandates.c.may_read,
        account_mandates.c.revoked_at.is_(None),
        account_mandates.c.expires_at > now,
    )
    return (await session.execute(stmt.limit(1))).first() is not None


async def insert_mandate(session: AsyncSession, **values: Any) -> RowMapping:
    stmt = insert(account_mandates).values(**values).returning(*account_mandates.c)
    return (await session.execute(stmt)).mappings().one()


async def get_mandate(
    session: AsyncSession, account_id: UUID, mandate_id: UUID, *, lock: bool = False
) -> RowMapping | None:
    stmt = select(account_mandates).where(
        account_mandates.c.id == mandate_id, account_mandates.c.account_id == account_id
    )
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).mappings().first()


async def list_mandates(
    session: AsyncSession, account_id: UUID, *, after: UUID | None, limit: int
) -> Sequence[RowMapping]:
    """Every mandate of an account, revoked and expired ones included (the history)."""
    stmt = (
        select(account_mandates)
        .where(account_mandates.c.account_id == account_id)
        .order_by(account_mandates.c.id)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(account_mandates.c.id > after)
    return (await session.execute(stmt)).mappings().all()


async def revoke_mandate(
    session: AsyncSession, mandate_id: UUID, *, by: str, at: datetime
) -> RowMapping:
    stmt = (
        update(account_mandates)
        .where(account_mandates.c.id == mandate_id)
        .values(revoked_at=at, revoked_by=by)
        .returning(*account_mandates.c)
    )
    return (await session.execute(stmt)).mappings().one()


async def get_grant_link(
    session: AsyncSession, *, programme_code: str, application_id: str
) -> RowMapping | None:
    stmt = select(grant_links).where(
        and_(
            grant_links.c.programme_code == programme_code,
            grant_links.c.application_id == application_id,
        )
    )
    return (await session.execute(stmt)).mappings().first()


async def insert_grant_link(session: AsyncSession, **values: Any) -> RowMapping:
    stmt = insert(grant_links).values(**values).returning(*grant_links.c)
    return (await session.execute(stmt)).mappings().one()


async def mandated_funding_account(
    session: AsyncSession, *, grantee: str, currency: str, now: datetime
) -> UUID | None:
    """The account of ``currency`` most recently mandated (debit, active) to ``grantee``: a
    programme's funding account, as the operator mandated it to the funding service."""
    stmt = (
        select(account_mandates.c.account_id)
        .join(accounts, accounts.c.id == account_mandates.c.account_id)
        .where(
            account_mandates.c.grantee == grantee,
            accounts.c.currency == currency,
            account_mandates.c.may_debit,
            account_mandates.c.revoked_at.is_(None),
            account_mandates.c.expires_at > now,
        )
        .order_by(account_mandates.c.created_at.desc())
        .limit(1)
    )
    found: UUID | None = (await session.execute(stmt)).scalar_one_or_none()
    return found
