"""Territories: pages and look-ups for a client, the hierarchy, and the writes of imports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.territories import repository
from services.diagnostics.territories.errors import TerritoryNotFound
from services.diagnostics.territories.models import Territory
from shared.auth import Principal


async def list_territories(
    session: AsyncSession,
    principal: Principal,
    *,
    after: str | None,
    limit: int,
    level: str | None,
    parent: str | None,
) -> list[Territory]:
    """A page of the territories the client may see, by code."""
    return await repository.list_readable(
        session, principal, after=after, limit=limit, level=level, parent=parent
    )


async def get_readable(
    session: AsyncSession, principal: Principal, code: str, currency: str | None = None
) -> Territory:
    """The territory, after checking the client is bound to it and to ``currency`` when a
    view adds that currency's live figures (403 before 404: no probing)."""
    principal.ensure_access("territories", code)
    if currency is not None:
        principal.ensure_access("currencies", currency)
    found = await repository.get(session, code)
    if found is None:
        raise TerritoryNotFound(f"no territory {code}")
    return found


async def children(session: AsyncSession, code: str) -> list[str]:
    """Codes of the territory's direct members (a région's départements, …)."""
    return await repository.children(session, code)


async def levels(session: AsyncSession) -> dict[str, str]:
    """Every known territory code with its level."""
    return await repository.levels(session)


async def names(session: AsyncSession) -> dict[str, str]:
    """Every known territory code with its name."""
    return await repository.names(session)


async def save(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or replace validated territories (parents first, see the importer)."""
    await repository.upsert(session, rows)
