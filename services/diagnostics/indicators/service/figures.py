"""The figures indicators are computed from, as imports and the demo loader write them:
sectors, yearly figures, jobs by sector, and the data version that keys the year cache."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.indicators import repository


async def sector_spheres(session: AsyncSession) -> dict[str, str]:
    """Every known sector code with its sphere."""
    return await repository.sector_spheres(session)


async def save_sectors(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or replace validated sectors."""
    await repository.upsert_sectors(session, rows)


async def add_reference_sectors(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Add sectors of INSEE's published list the table lacks; a sector already stored
    keeps the sphere the administrator gave it."""
    await repository.insert_missing_sectors(session, rows)


async def save_territory_years(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or replace validated yearly figures (one row per territory and year)."""
    await repository.upsert_territory_years(session, rows)


async def save_sector_employment(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or replace validated jobs by territory, year and sector."""
    await repository.upsert_sector_employment(session, rows)


async def data_changed(session: AsyncSession) -> None:
    """Bump the data version in the caller's transaction, so no cached year outlives it."""
    await repository.bump_data_version(session)


async def data_version(session: AsyncSession) -> int:
    """The version every import bumps: a key for what is computed from the data."""
    return await repository.data_version(session)
