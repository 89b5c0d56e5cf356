"""The asyncpg fast path (`services.ledger.database.driver`) writes inside the session's
transaction whichever statement comes first: a rolled-back session leaves no row behind,
a committed one keeps them all, and a refused statement reads as SQLAlchemy's error."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.ledger.database import driver
from shared.db import make_engine, make_session_factory

INSERT = (
    "INSERT INTO currencies (code, kind, scale, operator) VALUES ($1, 'time', 0, 'op') "
    "RETURNING code"
)


@pytest.fixture
async def factory(
    migrated_database: Callable[[str], str],
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(migrated_database("ledger"), pool_size=1, max_overflow=0)
    try:
        yield make_session_factory(engine)
    finally:
        await engine.dispose()


async def codes(factory: async_sessionmaker[AsyncSession]) -> set[str]:
    async with factory() as s:
        return set((await s.execute(text("SELECT code FROM currencies"))).scalars())


async def test_a_first_raw_statement_is_rolled_back_with_the_session(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    async with factory() as s:
        assert [r["code"] for r in await driver.fetch(s, INSERT, "FIRST")] == ["FIRST"]
        row = await driver.fetchrow(s, INSERT, "SECOND")
        assert row is not None and row["code"] == "SECOND"
        await s.rollback()
    async with factory() as s:
        row = await driver.fetchrow(s, INSERT, "THIRD")
        assert row is not None and row["code"] == "THIRD"
        await s.rollback()
    async with factory() as s:
        await (await driver.pg(s)).execute(INSERT, "FOURTH")
        await s.rollback()
    assert await codes(factory) == set()


async def test_raw_and_sqlalchemy_statements_commit_together(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    async with factory() as s, s.begin():
        await driver.fetchrow(s, INSERT, "RAW")
        await s.execute(
            text(
                "INSERT INTO currencies (code, kind, scale, operator) "
                "VALUES ('CORE', 'time', 0, 'op')"
            )
        )
        await driver.fetch(s, INSERT, "AFTER")
    async with factory() as s, s.begin():
        await s.execute(text("SELECT 1"))
        await driver.fetch(s, INSERT, "SECOND_TX")
    assert await codes(factory) == {"RAW", "CORE", "AFTER", "SECOND_TX"}


@pytest.mark.parametrize("first", [True, False])
async def test_a_refused_statement_reads_as_sqlalchemys_error(
    factory: async_sessionmaker[AsyncSession], first: bool
) -> None:
    async with factory() as s, s.begin():
        await driver.fetch(s, INSERT, "TAKEN")
    async with factory() as s:
        if not first:
            await driver.fetch(s, "SELECT 1")
        with pytest.raises(IntegrityError) as refused:
            await driver.fetchrow(s, INSERT, "TAKEN")
        cause = refused.value.orig.__cause__  # type: ignore[union-attr]
        assert isinstance(cause, asyncpg.UniqueViolationError)
        assert cause.constraint_name == "currencies_pkey"
        await s.rollback()
    assert await codes(factory) == {"TAKEN"}
