"""The generic repository every concept's repository builds on: get, get_or_none, a keyset
page, and an insert that turns a duplicate key into a 409."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.db.base import Base
from shared.problems import Conflict, NotFound

M = TypeVar("M", bound=Base)

Page = tuple[Sequence[Any], str | None]
"""One keyset page: its rows, and the cursor of the next page (None on the last)."""


@dataclass(frozen=True)
class Paging:
    """Which keyset page to read: the rows after ``cursor`` (the last key seen), at most
    ``limit`` of them."""

    cursor: uuid.UUID | None
    limit: int


async def get_or_none(
    session: AsyncSession, model: type[M], key: Any, *, lock: bool = False
) -> M | None:
    """The row with primary key ``key``, or None; ``lock`` takes FOR UPDATE."""
    return await session.get(model, key, with_for_update=lock, populate_existing=lock)


async def get(session: AsyncSession, model: type[M], key: Any, *, lock: bool = False) -> M:
    """The row with primary key ``key``, or a 404 problem; ``lock`` takes FOR UPDATE."""
    row = await get_or_none(session, model, key, lock=lock)
    if row is None:
        raise NotFound(f"no {model.__tablename__[:-1].replace('_', ' ')} {key}")
    return row


async def paginate(
    session: AsyncSession,
    statement: Select[Any],
    *,
    key: Any,
    cursor: Any | None,
    limit: int,
) -> Page:
    """One page ordered by the unique ``key`` column, after ``cursor`` (the last key seen)."""
    if cursor is not None:
        statement = statement.where(key > cursor)
    rows = (await session.scalars(statement.order_by(key).limit(limit + 1))).all()
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, str(getattr(rows[-1], key.key))
    return rows, None


async def page_of_file(
    session: AsyncSession,
    model: Any,
    application_id: uuid.UUID,
    paging: Paging,
    *where: ColumnElement[bool],
) -> Page:
    """One page, by id, of a file's rows of ``model`` (opinions, messages, tranches, …:
    any model with ``id`` and ``application_id`` columns) that also meet ``where``."""
    statement = select(model).where(model.application_id == application_id, *where)
    return await paginate(
        session, statement, key=model.id, cursor=paging.cursor, limit=paging.limit
    )


async def insert_unique(session: AsyncSession, row: Base, what: str) -> None:
    """Insert under a savepoint so a duplicate key is a 409, not a failed transaction."""
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"{what} already exists") from exc


async def add(session: AsyncSession, *rows: Base) -> None:
    """Insert ``rows`` now (flushed), in the caller's transaction."""
    session.add_all(rows)
    await session.flush()
