"""Every SQL statement of currencies and of their reserve configurations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.database.driver import fetch
from services.ledger.database.tables import currencies, currency_reserves

Row = Mapping[str, Any]


async def insert_currency(session: AsyncSession, **values: Any) -> RowMapping | None:
    """Insert a currency; None if the code is taken."""
    stmt = pg_insert(currencies).values(**values).on_conflict_do_nothing().returning(currencies)
    row: RowMapping | None = (await session.execute(stmt)).mappings().first()
    return row


async def get_currency(session: AsyncSession, code: str) -> RowMapping | None:
    stmt = select(currencies).where(currencies.c.code == code)
    return (await session.execute(stmt)).mappings().first()


async def list_currencies(
    session: AsyncSession, *, visible: frozenset[str] | None, after: str | None, limit: int
) -> Sequence[RowMapping]:
    stmt = select(currencies).order_by(currencies.c.code).limit(limit)
    if visible is not None:
        stmt = stmt.where(currencies.c.code.in_(sorted(visible)))
    if after is not None:
        stmt = stmt.where(currencies.c.code > after)
    return (await session.execute(stmt)).mappings().all()


async def upsert_reserve(session: AsyncSession, **values: Any) -> None:
    stmt = pg_insert(currency_reserves).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[currency_reserves.c.currency],
        set_={k: stmt.excluded[k] for k in values if k != "currency"},
    )
    await session.execute(stmt)


async def get_reserve(session: AsyncSession, currency: str) -> RowMapping | None:
    stmt = select(currency_reserves).where(currency_reserves.c.currency == currency)
    return (await session.execute(stmt)).mappings().first()


_RESERVES_TOUCHING = """
SELECT currency, issuer_account, reserve_account, external_account, fund_account
FROM currency_reserves
WHERE issuer_account = ANY($1::uuid[]) OR reserve_account = ANY($1::uuid[])
"""


async def reserves_touching(session: AsyncSession, ids: Sequence[UUID]) -> Sequence[Row]:
    """Reserve configurations whose issuer or reserve account is among ``ids``."""
    return await fetch(session, _RESERVES_TOUCHING, list(ids))


_POSTED = "SELECT account_id, posted FROM account_balances WHERE account_id = ANY($1::uuid[])"


async def posted_balances(session: AsyncSession, ids: Sequence[UUID]) -> dict[UUID, int]:
    return {row["account_id"]: row["posted"] for row in await fetch(session, _POSTED, list(ids))}
