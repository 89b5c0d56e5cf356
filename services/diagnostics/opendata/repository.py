"""Every SQL statement of the open data: the currencies opted in."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.opendata.models import OpenDataPublication


async def opt_in(
    session: AsyncSession, *, currency: str, licence: str, by: str
) -> OpenDataPublication:
    """Record the opt-in (a second one keeps the first decision's author and date)."""
    await session.execute(
        pg_insert(OpenDataPublication)
        .values(currency=currency, licence=licence, opted_in_by=by)
        .on_conflict_do_nothing(index_elements=[OpenDataPublication.currency])
    )
    return (
        await session.scalars(
            select(OpenDataPublication).where(OpenDataPublication.currency == currency)
        )
    ).one()


async def opt_out(session: AsyncSession, *, currency: str) -> bool:
    result = await session.execute(
        delete(OpenDataPublication).where(OpenDataPublication.currency == currency)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def get(session: AsyncSession, currency: str) -> OpenDataPublication | None:
    return await session.get(OpenDataPublication, currency)


async def published(session: AsyncSession, currency: str | None) -> Sequence[OpenDataPublication]:
    """The opted-in currencies (only ``currency`` when given), by code."""
    query = select(OpenDataPublication).order_by(OpenDataPublication.currency)
    if currency is not None:
        query = query.where(OpenDataPublication.currency == currency)
    return (await session.scalars(query)).all()
