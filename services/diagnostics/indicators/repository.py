"""Every SQL statement of the figures indicators are computed from: sectors, yearly
figures of each territory, jobs by sector, and the data version."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.database import copy_rows, copy_upsert, in_chunks
from services.diagnostics.indicators.models import (
    DataVersion,
    DiagnosticResult,
    Sector,
    SectorEmployment,
    TerritoryYearRow,
)


async def data_version(session: AsyncSession) -> int:
    """The current version of the structural data (see `DataVersion`)."""
    return int(await session.scalar(select(DataVersion.version).where(DataVersion.id == 1)) or 0)


async def bump_data_version(session: AsyncSession) -> None:
    await session.execute(
        update(DataVersion).where(DataVersion.id == 1).values(version=DataVersion.version + 1)
    )


async def sector_spheres(session: AsyncSession) -> dict[str, str]:
    """Every known sector code with its sphere."""
    rows = await session.execute(select(Sector.code, Sector.sphere))
    return dict(rows.all())


async def upsert_sectors(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    for chunk in in_chunks(rows):
        stmt = pg_insert(Sector).values(list(chunk))
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[Sector.code],
                set_={"label": stmt.excluded.label, "sphere": stmt.excluded.sphere},
            )
        )


async def upsert_territory_years(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or replace yearly figures with one COPY (``database.copy_upsert``)."""
    keys = ("code", "year")
    await copy_upsert(
        session,
        TerritoryYearRow.__table__,  # type: ignore[arg-type]
        rows,
        keys=keys,
        update=[name for name in rows[0] if name not in keys] if rows else [],
    )


async def insert_missing_sectors(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    for chunk in in_chunks(rows):
        stmt = pg_insert(Sector).values(list(chunk))
        await session.execute(stmt.on_conflict_do_nothing(index_elements=[Sector.code]))


async def upsert_sector_employment(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or replace jobs by sector with one COPY (``database.copy_upsert``)."""
    await copy_upsert(
        session,
        SectorEmployment.__table__,  # type: ignore[arg-type]
        rows,
        keys=("code", "year", "sector"),
        update=("jobs", "import_id"),
    )


async def territory_years(session: AsyncSession, year: int) -> list[Row[Any]]:
    """The yearly figures of every territory with data for ``year``, by code: plain rows
    with the columns as attributes (no ORM objects: a year of France is 35,000 rows, read
    once to be computed, never changed, and identity-mapping them cost more than the
    query)."""
    table = TerritoryYearRow.__table__
    query = select(*table.columns).where(table.c.year == year).order_by(table.c.code)
    return list((await session.execute(query)).all())


async def sector_jobs(session: AsyncSession, year: int) -> dict[str, dict[str, int | None]]:
    """Jobs by territory and sector in ``year`` (None: a secret cell)."""
    rows = await session.execute(
        select(SectorEmployment.code, SectorEmployment.sector, SectorEmployment.jobs).where(
            SectorEmployment.year == year
        )
    )
    out: dict[str, dict[str, int | None]] = {}
    for code, sector, jobs in rows.all():
        out.setdefault(code, {})[sector] = jobs
    return out


async def latest_year(session: AsyncSession) -> int | None:
    """The latest year any territory has figures for."""
    return await session.scalar(select(func.max(TerritoryYearRow.year)))


async def year_before(session: AsyncSession, year: int) -> int | None:
    """The latest year before ``year`` any territory has figures for."""
    return await session.scalar(
        select(func.max(TerritoryYearRow.year)).where(TerritoryYearRow.year < year)
    )


RESULT_COLUMNS = ("code", "year", "level", "source", "data_version", "document")


async def replace_diagnostics(
    session: AsyncSession, year: int, records: Sequence[tuple[Any, ...]]
) -> None:
    """Replace every persisted diagnostic of ``year`` (tuples in ``RESULT_COLUMNS`` order,
    the document as JSON text) with one DELETE and one COPY."""
    await session.execute(delete(DiagnosticResult).where(DiagnosticResult.year == year))
    await copy_rows(session, DiagnosticResult.__table__, RESULT_COLUMNS, records)  # type: ignore[arg-type]


async def diagnostic_result(session: AsyncSession, code: str, year: int) -> DiagnosticResult | None:
    """The persisted diagnostic of one territory-year, if computed."""
    return await session.get(DiagnosticResult, (code, year))
