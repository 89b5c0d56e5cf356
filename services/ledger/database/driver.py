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
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

_PG = "ledger.asyncpg"


async def _connections(session: AsyncSession) -> tuple[AsyncConnection, asyncpg.Connection]:
    """The session's connection and the asyncpg connection under it (looked up once per
    checkout: the session's info remembers which SQLAlchemy connection it belongs to)."""
    conn = await session.connection()
    cached = session.info.get(_PG)
    if cached is None or cached[0] is not conn.sync_connection:
        raw = (await conn.get_raw_connection()).driver_connection
        cached = session.info[_PG] = (conn.sync_connection, raw)
    return conn, cached[1]


def _through_dbapi(sync_conn: Connection, sql: str, args: Sequence[Any]) -> list[asyncpg.Record]:
    """Every row of ``sql`` run through the DBAPI cursor of SQLAlchemy's asyncpg adapter,
    which (PEP 249) begins the connection's transaction before its first statement and
    keeps it to commit or roll back. The adapter hands back asyncpg's own records."""
    dbapi_connection = sync_conn.connection.dbapi_connection
    assert dbapi_connection is not None  # a connection in use always has its DBAPI connection
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(sql, args)
        return list(cursor.fetchall()) if cursor.description else []
    finally:
        cursor.close()


async def _first(conn: AsyncConnection, sql: str, args: Sequence[Any]) -> list[asyncpg.Record]:
    """Every row of ``sql``, sent as the first statement of the session's transaction."""
    try:
        return await conn.run_sync(_through_dbapi, sql, args)
    except Exception as exc:
        if isinstance(exc.__cause__, asyncpg.PostgresError):
            raise _translated(exc.__cause__, sql) from exc.__cause__
        raise


async def pg(session: AsyncSession, *, begin: bool = True) -> asyncpg.Connection:
    """The asyncpg connection under the session, inside its database transaction.

    SQLAlchemy's asyncpg adapter sends BEGIN lazily, before its own first statement; a
    statement sent straight to asyncpg first would run in autocommit and survive a
    rollback. So unless ``begin`` is False (a single read, where a transaction is only a
    round trip more), a transaction not begun yet is begun here through the adapter's
    public DBAPI cursor, and SQLAlchemy then commits or rolls it back as usual. `fetch`
    and `fetchrow` save that statement: their own goes first through the cursor.
    """
    conn, raw = await _connections(session)
    if begin and not raw.is_in_transaction():
        await _first(conn, "SELECT 1", ())
    return raw


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
    conn, raw = await _connections(session)
    if not raw.is_in_transaction():
        return await _first(conn, sql, args)
    try:
        return list(await raw.fetch(sql, *args))
    except asyncpg.PostgresError as exc:
        raise _translated(exc, sql) from exc


async def fetchrow(session: AsyncSession, sql: str, *args: Any) -> asyncpg.Record | None:
    """The first row of ``sql`` run in the session's transaction, if any."""
    conn, raw = await _connections(session)
    if not raw.is_in_transaction():
        rows = await _first(conn, sql, args)
        return rows[0] if rows else None
    try:
        return await raw.fetchrow(sql, *args)
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


async def fetch_alone(engine: AsyncEngine, sql: str, *args: Any) -> list[asyncpg.Record]:
    """Every row of one statement run as its own transaction, on a pooled connection with
    no session: no BEGIN and no COMMIT, so one round trip (a posting group's function,
    `transactions.repository.post_group`). Errors come back as SQLAlchemy's, as `fetch`
    raises them; a connection that failed other than by the server's refusal is dropped,
    as in `read_one`."""
    proxied = await engine.raw_connection()
    conn = proxied.driver_connection
    assert conn is not None  # a checked-out connection always has its driver connection
    try:
        rows = await conn.fetch(sql, *args)
    except asyncpg.PostgresError as exc:
        proxied.close()  # the server refused the statement (and rolled it back)
        raise _translated(exc, sql) from exc
    except BaseException:
        proxied.invalidate()
        raise
    proxied.close()
    return list(rows)


def jsonb_param(value: Any) -> str:
    """A value for a json/jsonb parameter: SQLAlchemy's asyncpg dialect registers codecs on
    its connections that take text in and give Python objects out."""
    if isinstance(value, dict) and not value:
        return "{}"
    return json.dumps(value, separators=(",", ":"))


def columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows as ``width`` column arrays (for ``unnest``), empty arrays for no rows."""
    return [[row[i] for row in rows] for i in range(width)]
