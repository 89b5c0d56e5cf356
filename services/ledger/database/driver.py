"""The asyncpg fast path: hot statements sent straight to the request's asyncpg connection.

The statements on the posting and balance-read paths (locking accounts, inserting
transactions, idempotency keys, reserves, balances) go to the session's asyncpg connection
(`pg`), inside the session's transaction, as fixed SQL strings: asyncpg prepares each once
per connection and reuses it. Errors are re-raised as SQLAlchemy's, so callers and the unit
of work see no difference. Why: docs/decisions/ledger-asyncpg-fast-path.md.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import asyncpg
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

_PG = "ledger.asyncpg"


async def pg(session: AsyncSession, *, begin: bool = True) -> asyncpg.Connection:
    """The asyncpg connection under the session, inside its database transaction.

    SQLAlchemy's asyncpg adapter sends BEGIN lazily, before its own first statement; a
    statement sent straight to asyncpg first would run in autocommit and survive a
    rollback. So unless ``begin`` is False (a single read, where a transaction is only a
    round trip more), the adapter's transaction is started here, through its private
    ``_start_transaction`` (no public hook exists), and SQLAlchemy then commits or rolls it
    back as usual.
    """
    conn = await session.connection()
    cached = session.info.get(_PG)
    if cached is None or cached[0] is not conn.sync_connection:
        fresh = (await conn.get_raw_connection()).dbapi_connection
        cached = session.info[_PG] = (conn.sync_connection, fresh)
    adapter: Any = cached[1]
    if begin and adapter._transaction is None:
        await adapter._start_transaction()
    return adapter.driver_connection


class _Orig(Exception):
    """Stands where SQLAlchemy puts its DBAPI error, with the asyncpg error as cause, so
    ``exc.orig.__cause__.constraint_name`` reads as it does for SQLAlchemy's own errors."""


def _translated(exc: asyncpg.PostgresError, sql: str) -> DBAPIError:
    orig = _Orig(str(exc))
    orig.__cause__ = exc
    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
        return IntegrityError(sql, None, orig)
    return DBAPIError(sql, None, orig)


async def fetch(session: AsyncSession, sql: str, *args: Any) -> list[asyncpg.Record]:
    """Every row of ``sql`` run in the session's transaction."""
    try:
        return list(await (await pg(session)).fetch(sql, *args))
    except asyncpg.PostgresError as exc:
        raise _translated(exc, sql) from exc


async def fetchrow(session: AsyncSession, sql: str, *args: Any) -> asyncpg.Record | None:
    """The first row of ``sql`` run in the session's transaction, if any."""
    try:
        return await (await pg(session)).fetchrow(sql, *args)
    except asyncpg.PostgresError as exc:
        raise _translated(exc, sql) from exc


async def fetchval(session: AsyncSession, sql: str, *args: Any) -> Any:
    """The first column of the first row of ``sql``, outside any transaction: one
    read-only statement, where BEGIN would only be a round trip more."""
    return await (await pg(session, begin=False)).fetchval(sql, *args)


async def read_one(engine: AsyncEngine, sql: str, *args: Any) -> asyncpg.Record | None:
    """One read-only statement on a pooled connection, with no session and no transaction.

    For the hottest reads (a balance), where a request's `AsyncSession` (created, begun,
    committed, closed) costs more than the query: one statement sees one consistent
    snapshot anyway. The connection comes from the service's own pool (pinged after idling
    like any other checkout) and goes back to it; one that failed mid-statement is
    discarded, since its protocol state is unknown.
    """
    proxied = await engine.raw_connection()
    conn = proxied.driver_connection
    assert conn is not None  # a checked-out connection always has its driver connection
    try:
        row: asyncpg.Record | None = await conn.fetchrow(sql, *args)
    except asyncpg.PostgresError:
        proxied.close()  # the server refused the statement; the connection is fine
        raise
    except BaseException:
        proxied.invalidate()
        raise
    proxied.close()
    return row


def jsonb_param(value: Any) -> str:
    """A value for a json/jsonb parameter: SQLAlchemy's asyncpg dialect registers codecs on
    its connections that take text in and give Python objects out."""
    if isinstance(value, dict) and not value:
        return "{}"
    return json.dumps(value, separators=(",", ":"))


def columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows as ``width`` column arrays (for ``unnest``), empty arrays for no rows."""
    return [[row[i] for row in rows] for i in range(width)]
