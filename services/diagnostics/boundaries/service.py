"""Pages of boundaries above the commune for a client (the unions are built and stored by
the geography concept whenever memberships or commune boundaries change)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.boundaries.rules import feature_collection
from services.diagnostics.geography import service as geography
from services.diagnostics.http.pagination import next_cursor
from shared.auth import Principal


async def boundaries_page(
    session: AsyncSession, principal: Principal, *, level: str, after: str | None, limit: int
) -> str:
    """GeoJSON of one page of the territories of ``level`` the client may see, by code."""
    page = await geography.boundary_page(session, principal, level=level, after=after, limit=limit)
    cursor = next_cursor(page, limit=limit, key=lambda item: [item["code"]])
    return feature_collection(page, cursor)
