"""The declarative base of the diagnostics tables: one metadata, one Alembic history.

Each concept declares its tables in its own ``models.py`` on :class:`Base`; :func:`metadata`
loads them all, for Alembic and for the test that compares the models with the migrations.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, Table, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import ServiceBase, make_metadata

CONCEPTS_WITH_TABLES = (
    "territories",
    "geography",
    "perimeters",
    "indicators",
    "imports",
    "aggregates",
    "grants",
    "opendata",
    "incomes",
)


class Base(ServiceBase):
    __abstract__ = True
    metadata = make_metadata()


def created_at() -> Mapped[datetime]:
    """A ``timestamptz`` column set by the database when the row is inserted."""
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


ROWS_PER_STATEMENT = 1000
"""Rows per multi-row INSERT: a statement's bind parameters are bounded (32767 in asyncpg)."""


def in_chunks(
    rows: Sequence[dict[str, Any]], size: int = ROWS_PER_STATEMENT
) -> Iterator[Sequence[dict[str, Any]]]:
    """``rows`` in consecutive slices of at most ``size``, for multi-row INSERTs."""
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def metadata() -> MetaData:
    """Every table of the service (importing each concept's models registers its tables)."""
    for concept in CONCEPTS_WITH_TABLES:
        importlib.import_module(f"services.diagnostics.{concept}.models")
    return Base.metadata


async def _driver(session: AsyncSession) -> Any:
    """The asyncpg connection under the session's, in its transaction (COPY is asyncpg's)."""
    driver = (await (await session.connection()).get_raw_connection()).driver_connection
    assert driver is not None, "the session has no open connection"
    return driver


async def copy_upsert(
    session: AsyncSession,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    keys: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert or replace ``rows`` of ``table`` with one COPY and one statement.

    A whole file's figures (the yearly figures and jobs by sector of every commune of
    France) are hundreds of thousands of rows: a multi-row INSERT per thousand rows spends
    its time building and binding parameters, COPY streams them. The rows are copied into
    a temporary table shaped like ``table`` (emptied at commit) and merged from there with
    ``INSERT … ON CONFLICT (keys) DO UPDATE``, in the caller's transaction, so the
    constraints of ``table`` still judge every row and a failure writes nothing.
    """
    if not rows:
        return
    columns = list(rows[0])
    staging = f"staging_{table.name}"
    driver = await _driver(session)
    await driver.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {staging} "
        f"(LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS; "
        f"TRUNCATE {staging}"
    )
    await driver.copy_records_to_table(
        staging, records=[tuple(row.get(c) for c in columns) for row in rows], columns=columns
    )
    listed = ", ".join(columns)
    changes = ", ".join(f"{c} = EXCLUDED.{c}" for c in update if c in columns)
    action = f"DO UPDATE SET {changes}" if changes else "DO NOTHING"
    await driver.execute(
        f"INSERT INTO {table.name} ({listed}) SELECT {listed} FROM {staging} "
        f"ON CONFLICT ({', '.join(keys)}) {action}"
    )


async def copy_rows(
    session: AsyncSession, table: Table, columns: Sequence[str], records: Sequence[tuple[Any, ...]]
) -> None:
    """Append ``records`` (tuples in ``columns`` order) to ``table`` with one COPY, in the
    caller's transaction (computed results written in bulk)."""
    if not records:
        return
    driver = await _driver(session)
    await driver.copy_records_to_table(table.name, records=list(records), columns=list(columns))
