"""Every SQL statement of the live grant aggregates and of the instruments' figures."""

from __future__ import annotations

from typing import Any, TypedDict

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.grants.models import GrantAggregate, InstrumentFigures
from shared.auth import Principal

GrantKey = tuple[str, str, str, str]
"""(territory, programme, currency, period)."""


async def add(session: AsyncSession, key: GrantKey, **deltas: int) -> None:
    """Add ``deltas`` (committed, released, payments, paid) to a row created at zero."""
    territory, programme, currency, period = key
    values = {name: deltas.get(name, 0) for name in ("committed", "released", "payments", "paid")}
    stmt = pg_insert(GrantAggregate).values(
        territory=territory, programme=programme, currency=currency, period=period, **values
    )
    table = GrantAggregate.__table__
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[
                GrantAggregate.territory,
                GrantAggregate.programme,
                GrantAggregate.currency,
                GrantAggregate.period,
            ],
            set_={
                **{name: table.c[name] + stmt.excluded[name] for name in values},
                "updated_at": func.now(),
            },
        )
    )


def _readable(query: Select[GrantAggregate], principal: Principal) -> Select[GrantAggregate]:
    """Only the rows of the territories and programmes the client is bound to."""
    territories = principal.visible("territories")
    if territories is not None:
        query = query.where(GrantAggregate.territory.in_(list(territories)))
    programmes = principal.visible("programmes")
    if programmes is not None:
        query = query.where(GrantAggregate.programme.in_(list(programmes)))
    return query


class GrantFilters(TypedDict):
    """The filters of a list of grant aggregates, each None when not asked for: the service
    passes them through as one, the query alone gives them their meaning."""

    territory: str | None
    programme: str | None
    period: str | None


async def list_readable(
    session: AsyncSession,
    principal: Principal,
    *,
    after: GrantKey | None,
    limit: int,
    territory: str | None,
    programme: str | None,
    period: str | None,
) -> list[GrantAggregate]:
    """A page of grant aggregates within the filters, of what the client may read."""
    g = GrantAggregate
    key = (g.territory, g.programme, g.currency, g.period)
    query = select(g).order_by(*key).limit(limit)
    if after is not None:
        query = query.where(tuple_(*key) > after)
    for column, value in ((g.territory, territory), (g.programme, programme), (g.period, period)):
        if value is not None:
            query = query.where(column == value)
    return list((await session.scalars(_readable(query, principal))).all())


async def save_figures(session: AsyncSession, row: dict[str, Any]) -> None:
    """Keep ``row`` as the territory's figures unless a later event is already kept (an
    older one delivered late changes nothing)."""
    stmt = pg_insert(InstrumentFigures).values(**row)
    table = InstrumentFigures.__table__
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[InstrumentFigures.territory],
            set_={
                **{name: stmt.excluded[name] for name in row if name != "territory"},
                "updated_at": func.now(),
            },
            where=table.c.event_time <= stmt.excluded.event_time,
        )
    )


async def figures_of(session: AsyncSession, territories: list[str]) -> list[InstrumentFigures]:
    """The kept figures of those of ``territories`` that have some."""
    query = select(InstrumentFigures).where(InstrumentFigures.territory.in_(territories))
    return list((await session.scalars(query.order_by(InstrumentFigures.territory))).all())
