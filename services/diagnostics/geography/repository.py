"""Every SQL statement of the official geography."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.database import in_chunks
from services.diagnostics.geography.models import (
    Boundary,
    CommuneChange,
    GeographySource,
    GeographyUnit,
    Membership,
)


async def upsert_units(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Every upsert here is one statement executed for all rows: SQLAlchemy compiles it
    once and sends batched multi-row INSERTs (the whole of France: ~150k rows)."""
    if not rows:
        return
    stmt = pg_insert(GeographyUnit)
    keys = {"type", "code"}
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[GeographyUnit.type, GeographyUnit.code],
            set_={name: stmt.excluded[name] for name in rows[0] if name not in keys},
        ),
        list(rows),
    )


async def save_memberships(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or replace memberships; an open earlier membership of the same commune and
    relation ends where the new one starts (a commune changing EPCI keeps its history)."""
    if not rows:
        return
    stmt = pg_insert(Membership)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[Membership.member_code, Membership.relation, Membership.valid_from],
            set_={
                "parent_code": stmt.excluded.parent_code,
                "valid_to": stmt.excluded.valid_to,
                "source": stmt.excluded.source,
                "synthetic": stmt.excluded.synthetic,
            },
        ),
        list(rows),
    )
    for relation, starting in sorted({(r["relation"], r["valid_from"]) for r in rows}):
        await close_earlier(session, relation=relation, starting=starting)


async def close_earlier(session: AsyncSession, *, relation: str, starting: date) -> None:
    """End every open membership of ``relation`` that began before ``starting`` and whose
    commune has a membership of that relation starting then."""
    newer = (
        select(Membership.member_code)
        .where(Membership.relation == relation, Membership.valid_from == starting)
        .scalar_subquery()
    )
    await session.execute(
        update(Membership)
        .where(
            Membership.relation == relation,
            Membership.valid_from < starting,
            or_(Membership.valid_to.is_(None), Membership.valid_to > starting),
            Membership.member_code.in_(newer),
        )
        .values(valid_to=starting)
    )


async def members_current(session: AsyncSession) -> list[tuple[str, str, str]]:
    """(parent, relation, commune) of every open membership."""
    rows = await session.execute(
        select(Membership.parent_code, Membership.relation, Membership.member_code).where(
            Membership.valid_to.is_(None)
        )
    )
    return [(p, r, m) for p, r, m in rows.all()]


async def communes_of(session: AsyncSession, parents: Sequence[str]) -> list[tuple[str, str]]:
    """(parent, commune) of the open memberships of these territories."""
    if not parents:
        return []
    rows = await session.execute(
        select(Membership.parent_code, Membership.member_code).where(
            Membership.valid_to.is_(None), Membership.parent_code.in_(list(parents))
        )
    )
    return [(p, m) for p, m in rows.all()]


async def boundaries_of(session: AsyncSession, codes: Sequence[str]) -> dict[str, bytes]:
    """The stored (simplified) boundaries of these territories, by code."""
    if not codes:
        return {}
    rows = await session.execute(
        select(Boundary.code, Boundary.geometry).where(Boundary.code.in_(list(codes)))
    )
    return {c: bytes(g) for c, g in rows.all()}


async def memberships_of(session: AsyncSession, code: str) -> list[Membership]:
    """Every membership of one commune, by relation and date."""
    rows = await session.scalars(
        select(Membership)
        .where(Membership.member_code == code)
        .order_by(Membership.relation, Membership.valid_from)
    )
    return list(rows.all())


async def upsert_boundaries(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    stmt = pg_insert(Boundary)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[Boundary.code],
            set_={
                "geometry": stmt.excluded.geometry,
                "tolerance": stmt.excluded.tolerance,
                "vintage": stmt.excluded.vintage,
            },
        ),
        list(rows),
    )


async def boundary(session: AsyncSession, code: str) -> Boundary | None:
    return await session.get(Boundary, code)


async def member_boundaries(session: AsyncSession) -> list[tuple[str, bytes, date]]:
    """(parent, commune boundary, its vintage) of every open membership of a commune that
    has a boundary."""
    rows = await session.execute(
        select(Membership.parent_code, Boundary.geometry, Boundary.vintage)
        .join(Boundary, Boundary.code == Membership.member_code)
        .where(Membership.valid_to.is_(None))
    )
    return [(p, g, v) for p, g, v in rows.all()]


async def save_changes(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    for chunk in in_chunks(rows):
        stmt = pg_insert(CommuneChange).values(list(chunk))
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[
                    CommuneChange.mod,
                    CommuneChange.effective,
                    CommuneChange.type_before,
                    CommuneChange.code_before,
                    CommuneChange.type_after,
                    CommuneChange.code_after,
                ],
                set_={
                    "name_before": stmt.excluded.name_before,
                    "name_after": stmt.excluded.name_after,
                },
            )
        )


async def changes_between(session: AsyncSession, start: date, end: date) -> list[CommuneChange]:
    """Mouvements effective in (start, end]."""
    rows = await session.scalars(
        select(CommuneChange)
        .where(and_(CommuneChange.effective > start, CommuneChange.effective <= end))
        .order_by(CommuneChange.effective, CommuneChange.mod)
    )
    return list(rows.all())


async def save_source(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(delete(GeographySource).where(GeographySource.key == row["key"]))
    session.add(GeographySource(**row))
    await session.flush()


async def sources(session: AsyncSession) -> list[GeographySource]:
    rows = await session.scalars(select(GeographySource).order_by(GeographySource.key))
    return list(rows.all())


async def official_vintage(session: AsyncSession) -> date | None:
    """The latest vintage of a non-synthetic source loaded."""
    return await session.scalar(
        select(func.max(GeographySource.vintage)).where(GeographySource.synthetic.is_(False))
    )
