"""What a diagnostic is about: a territory, or a perimeter as it stood on 1 July of the
year (``kind:code`` among the computed year's territories)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.indicators.errors import NoDataForYear
from services.diagnostics.indicators.service.year import YearData, load_year
from services.diagnostics.perimeters import service as perimeters
from services.diagnostics.perimeters.rules import perimeter_key
from services.diagnostics.territories import service as territories
from shared.auth import Principal


async def perimeter_in(
    session: AsyncSession, principal: Principal, data: YearData, *, kind: str, code: str
) -> str:
    """The key of a perimeter in the computed year, for a client bound to every one of its
    communes (PerimeterNotFound when it did not exist on 1 July of the year)."""
    await perimeters.communes_on(session, principal, kind=kind, code=code, at=date(data.year, 7, 1))
    key = perimeter_key(kind, code)
    if key not in data.territories:
        raise NoDataForYear(f"aucune commune du périmètre {code} n'a de données en {data.year}")
    return key


async def territory_year(
    session: AsyncSession,
    principal: Principal,
    code: str,
    year: int | None,
    currency: str | None = None,
) -> YearData:
    """The computed year (default: the latest with figures) of a territory the client may
    read (and of ``currency``, when named): refused before any year is loaded."""
    await territories.get_readable(session, principal, code, currency)
    return await load_year(session, year)
