"""Every SQL statement of imports: the import rows, their progress and their reports."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.diagnostics.imports.models import Import
from shared.auth import Principal


def add(
    session: AsyncSession, *, import_id: uuid.UUID, kind: str, client_id: str, rows_total: int
) -> None:
    """A new running import (written when the caller's transaction commits)."""
    session.add(
        Import(
            id=import_id, kind=kind, status="running", client_id=client_id, rows_total=rows_total
        )
    )


async def update_import(session: AsyncSession, import_id: uuid.UUID, **values: Any) -> None:
    await session.execute(update(Import).where(Import.id == import_id).values(**values))


async def reloaded(session: AsyncSession, import_id: uuid.UUID) -> Import | None:
    """The import as the database has it now (not as the session last saw it)."""
    return await session.get(Import, import_id, populate_existing=True)


def _readable(query: Select[Import], principal: Principal) -> Select[Import]:
    """A client reads its own imports; an administrator reads every one."""
    return query if principal.is_admin else query.where(Import.client_id == principal.client_id)


async def get_readable(
    session: AsyncSession, principal: Principal, import_id: uuid.UUID
) -> Import | None:
    return await session.scalar(_readable(select(Import).where(Import.id == import_id), principal))


async def list_readable(
    session: AsyncSession,
    principal: Principal,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Import]:
    """A page of the imports the client may read, oldest first."""
    query = select(Import).order_by(Import.created_at, Import.id).limit(limit)
    if after is not None:
        query = query.where(tuple_(Import.created_at, Import.id) > after)
    return list((await session.scalars(_readable(query, principal))).all())


async def running_of_kind(session: AsyncSession, kind: str, *, since: datetime) -> Import | None:
    """The newest import of ``kind`` still running that started after ``since``."""
    query = (
        select(Import)
        .where(Import.kind == kind, Import.status == "running", Import.created_at > since)
        .order_by(Import.created_at.desc())
        .limit(1)
    )
    return await session.scalar(query)
