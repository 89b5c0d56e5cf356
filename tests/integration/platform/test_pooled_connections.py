"""Pooled connections survive a PostgreSQL that dropped them while they idled: the engine
pings a connection coming back from idle and replaces a dead one, so no request fails."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from shared.db import make_engine


async def backend_pid(engine) -> int:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_killed_while_idle_is_replaced(new_database) -> None:  # type: ignore[no-untyped-def]
    url = new_database("pooled_idle")
    engine = make_engine(url, pool_size=1, max_overflow=0, ping_after_idle_s=0.05)
    killer = make_engine(url, pool_size=1, max_overflow=0)
    try:
        first = await backend_pid(engine)
        async with killer.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        await asyncio.sleep(0.2)

        second = await backend_pid(engine)

        assert second != first
    finally:
        await engine.dispose()
        await killer.dispose()


async def test_a_recently_used_connection_is_not_pinged(new_database) -> None:  # type: ignore[no-untyped-def]
    """The other side of the bargain, shown rather than hidden: within the idle window a
    connection goes out unchecked, so one killed in that window fails its next use (and is
    then discarded by the pool)."""
    url = new_database("pooled_busy")
    engine = make_engine(url, pool_size=1, max_overflow=0, ping_after_idle_s=60)
    killer = make_engine(url, pool_size=1, max_overflow=0)
    try:
        first = await backend_pid(engine)
        async with killer.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        await asyncio.sleep(0.2)

        with pytest.raises(DBAPIError) as failure:
            await backend_pid(engine)

        assert failure.value.connection_invalidated
        assert await backend_pid(engine) != first
    finally:
        await engine.dispose()
        await killer.dispose()
