"""Every SQL statement of contract perimeters."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy import delete, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.perimeters.models import Perimeter, PerimeterCommune


async def save_version(
    session: AsyncSession,
    *,
    kind: str,
    code: str,
    name: str,
    valid_from: date,
    valid_to: date | None,
    communes: Collection[str],
    synthetic: bool = False,
) -> None:
    """Insert or replace one version; an open earlier version is closed where this one starts."""
    existing = await session.scalar(
        select(Perimeter).where(
            Perimeter.kind == kind, Perimeter.code == code, Perimeter.valid_from == valid_from
        )
    )
    if existing is None:
        existing = Perimeter(kind=kind, code=code, name=name, valid_from=valid_from)
        session.add(existing)
    existing.name, existing.valid_to, existing.synthetic = name, valid_to, synthetic
    await session.flush()
    await session.execute(
        update(Perimeter)
        .where(
            Perimeter.kind == kind,
            Perimeter.code == code,
            Perimeter.valid_from < valid_from,
            or_(Perimeter.valid_to.is_(None), Perimeter.valid_to > valid_from),
        )
        .values(valid_to=valid_from)
    )
    await session.execute(
        delete(PerimeterCommune).where(PerimeterCommune.perimeter_id == existing.id)
    )
    await session.execute(
        pg_insert(PerimeterCommune).values(
            [{"perimeter_id": existing.id, "commune_code": c} for c in sorted(communes)]
        )
    )


async def list_page(
    session: AsyncSession,
    *,
    after: tuple[str, str, date] | None,
    limit: int,
    kind: str | None,
    at: date | None,
) -> list[tuple[Perimeter, int]]:
    """A page of perimeter versions (of one kind, valid on a date, when given) with the
    number of communes of each."""
    count = (
        select(func.count())
        .where(PerimeterCommune.perimeter_id == Perimeter.id)
        .correlate(Perimeter)
        .scalar_subquery()
    )
    query = (
        select(Perimeter, count)
        .order_by(Perimeter.kind, Perimeter.code, Perimeter.valid_from)
        .limit(limit)
    )
    if after is not None:
        query = query.where(tuple_(Perimeter.kind, Perimeter.code, Perimeter.valid_from) > after)
    if kind is not None:
        query = query.where(Perimeter.kind == kind)
    if at is not None:
        query = query.where(
            Perimeter.valid_from <= at, or_(Perimeter.valid_to.is_(None), Perimeter.valid_to > at)
        )
    return [(p, n) for p, n in (await session.execute(query)).all()]


async def version_on(
    session: AsyncSession, *, kind: str, code: str, at: date
) -> tuple[Perimeter, list[str]] | None:
    """The version valid on ``at`` and its communes, by code."""
    perimeter = await session.scalar(
        select(Perimeter).where(
            Perimeter.kind == kind,
            Perimeter.code == code,
            Perimeter.valid_from <= at,
            or_(Perimeter.valid_to.is_(None), Perimeter.valid_to > at),
        )
    )
    if perimeter is None:
        return None
    communes = await session.scalars(
        select(PerimeterCommune.commune_code)
        .where(PerimeterCommune.perimeter_id == perimeter.id)
        .order_by(PerimeterCommune.commune_code)
    )
    return perimeter, list(communes.all())


async def all_on(session: AsyncSession, at: date) -> list[tuple[Perimeter, list[str]]]:
    """Every perimeter version valid on ``at`` with its communes."""
    rows = await session.execute(
        select(Perimeter, PerimeterCommune.commune_code)
        .join(PerimeterCommune, PerimeterCommune.perimeter_id == Perimeter.id)
        .where(
            Perimeter.valid_from <= at, or_(Perimeter.valid_to.is_(None), Perimeter.valid_to > at)
        )
        .order_by(Perimeter.kind, Perimeter.code, PerimeterCommune.commune_code)
    )
    out: dict[object, tuple[Perimeter, list[str]]] = {}
    for perimeter, commune in rows.all():
        out.setdefault(perimeter.id, (perimeter, []))[1].append(commune)
    return list(out.values())
