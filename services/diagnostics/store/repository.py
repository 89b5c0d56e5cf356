"""Every SQL query of the diagnostics service; services above only call these and flush."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.store.models import (
    DataVersion,
    Import,
    Perimeter,
    PerimeterCommune,
    Sector,
    SectorEmployment,
    Territory,
    TerritoryYearRow,
)

_CHUNK = 1000


def _chunks(
    rows: Sequence[dict[str, Any]], size: int = _CHUNK
) -> Iterable[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


# --- territories -------------------------------------------------------------------------


async def territory_codes(session: AsyncSession) -> dict[str, str]:
    """Every known territory code with its level."""
    rows = await session.execute(select(Territory.code, Territory.level))
    return dict(rows.all())


async def territory_names(session: AsyncSession) -> dict[str, str]:
    rows = await session.execute(select(Territory.code, Territory.name))
    return dict(rows.all())


async def get_territory(session: AsyncSession, code: str) -> Territory | None:
    return await session.get(Territory, code)


async def list_territories(
    session: AsyncSession,
    *,
    after: str | None,
    limit: int,
    level: str | None,
    parent: str | None,
    visible: Collection[str] | None,
) -> list[Territory]:
    query = select(Territory).order_by(Territory.code).limit(limit)
    if after is not None:
        query = query.where(Territory.code > after)
    if level is not None:
        query = query.where(Territory.level == level)
    if parent is not None:
        query = query.where(Territory.parent_code == parent)
    if visible is not None:
        query = query.where(Territory.code.in_(list(visible)))
    return list((await session.scalars(query)).all())


async def children(session: AsyncSession, code: str) -> list[str]:
    rows = await session.scalars(select(Territory.code).where(Territory.parent_code == code))
    return list(rows.all())


async def upsert_territories(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    for chunk in _chunks(rows):
        stmt = pg_insert(Territory).values(list(chunk))
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[Territory.code],
                set_={
                    "level": stmt.excluded.level,
                    "name": stmt.excluded.name,
                    "parent_code": stmt.excluded.parent_code,
                },
            )
        )


# --- sectors and yearly data ---------------------------------------------------------------


async def data_version(session: AsyncSession) -> int:
    """The current version of the structural data (see `DataVersion`)."""
    return int(await session.scalar(select(DataVersion.version).where(DataVersion.id == 1)) or 0)


async def bump_data_version(session: AsyncSession) -> None:
    await session.execute(
        update(DataVersion).where(DataVersion.id == 1).values(version=DataVersion.version + 1)
    )


async def sector_spheres(session: AsyncSession) -> dict[str, str]:
    rows = await session.execute(select(Sector.code, Sector.sphere))
    return dict(rows.all())


async def upsert_sectors(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    for chunk in _chunks(rows):
        stmt = pg_insert(Sector).values(list(chunk))
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[Sector.code],
                set_={"label": stmt.excluded.label, "sphere": stmt.excluded.sphere},
            )
        )


async def upsert_territory_years(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    for chunk in _chunks(rows):
        stmt = pg_insert(TerritoryYearRow).values(list(chunk))
        keys = {"code", "year"}
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[TerritoryYearRow.code, TerritoryYearRow.year],
                set_={name: stmt.excluded[name] for name in chunk[0] if name not in keys},
            )
        )


async def upsert_sector_employment(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    for chunk in _chunks(rows):
        stmt = pg_insert(SectorEmployment).values(list(chunk))
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[
                    SectorEmployment.code,
                    SectorEmployment.year,
                    SectorEmployment.sector,
                ],
                set_={"jobs": stmt.excluded.jobs, "import_id": stmt.excluded.import_id},
            )
        )


async def territory_years(session: AsyncSession, year: int) -> list[TerritoryYearRow]:
    query = select(TerritoryYearRow).where(TerritoryYearRow.year == year)
    return list((await session.scalars(query.order_by(TerritoryYearRow.code))).all())


async def sector_jobs(session: AsyncSession, year: int) -> dict[str, dict[str, int]]:
    rows = await session.execute(
        select(SectorEmployment.code, SectorEmployment.sector, SectorEmployment.jobs).where(
            SectorEmployment.year == year
        )
    )
    out: dict[str, dict[str, int]] = {}
    for code, sector, jobs in rows.all():
        out.setdefault(code, {})[sector] = jobs
    return out


async def years_with_data(session: AsyncSession) -> list[int]:
    rows = await session.scalars(select(TerritoryYearRow.year).distinct().order_by("year"))
    return list(rows.all())


# --- perimeters --------------------------------------------------------------------------


async def save_perimeter_version(
    session: AsyncSession,
    *,
    kind: str,
    code: str,
    name: str,
    valid_from: date,
    valid_to: date | None,
    communes: Collection[str],
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
    existing.name, existing.valid_to = name, valid_to
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


async def list_perimeters(
    session: AsyncSession,
    *,
    after: tuple[str, str, date] | None,
    limit: int,
    kind: str | None,
    at: date | None,
) -> list[tuple[Perimeter, int]]:
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


async def perimeter_at(
    session: AsyncSession, *, kind: str, code: str, at: date
) -> tuple[Perimeter, list[str]] | None:
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


# --- imports -----------------------------------------------------------------------------


async def get_import(session: AsyncSession, import_id: uuid.UUID) -> Import | None:
    return await session.get(Import, import_id)


async def list_imports(
    session: AsyncSession,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
    client_id: str | None,
) -> list[Import]:
    query = select(Import).order_by(Import.created_at, Import.id).limit(limit)
    if client_id is not None:
        query = query.where(Import.client_id == client_id)
    if after is not None:
        query = query.where(tuple_(Import.created_at, Import.id) > after)
    return list((await session.scalars(query)).all())


async def set_import(session: AsyncSession, import_id: uuid.UUID, **values: Any) -> None:
    await session.execute(update(Import).where(Import.id == import_id).values(**values))
