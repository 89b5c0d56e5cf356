"""Balance at an instant (one index lookup on ``balance_after``, ledger_0006) equals the sum of
the account's postings up to that instant, for random histories written on real PostgreSQL:
several transfers per database transaction (equal timestamps), and concurrent writers that
do not lock balance rows first (the trigger orders them)."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.ledger.store import repository as repo
from shared.db import make_engine, make_session_factory

ACCOUNTS = 3
_codes = itertools.count(1)

transfer = st.tuples(st.integers(0, ACCOUNTS - 1), st.integers(1, ACCOUNTS - 1), st.integers(1, 50))
# A history is a list of rounds; each round is a list of database transactions run
# concurrently, each holding one or more transfers.
histories = st.lists(
    st.lists(st.lists(transfer, min_size=1, max_size=3), min_size=1, max_size=3),
    min_size=1,
    max_size=6,
)

INSERT_TX = (
    "INSERT INTO transactions (id, kind, effective_date, client_id) "
    "VALUES (:id, 'transfer', current_date, 'prop')"
)
INSERT_LEG = (
    "INSERT INTO postings (transaction_id, account_id, currency, amount) VALUES (:tx, :a, :c, :m)"
)


async def setup(engine: Any) -> tuple[str, list[str]]:
    code = f"H{next(_codes)}"
    ids = [str(uuid.uuid4()) for _ in range(ACCOUNTS)]
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO currencies (code, kind, scale, operator) VALUES (:c, 'time', 0, 'p')"
            ),
            {"c": code},
        )
        for account in ids:
            await conn.execute(
                text("INSERT INTO accounts (id, currency, type) VALUES (:a, :c, 'member')"),
                {"a": account, "c": code},
            )
            await conn.execute(
                text("INSERT INTO account_balances (account_id, currency) VALUES (:a, :c)"),
                {"a": account, "c": code},
            )
    return code, ids


async def write(engine: Any, code: str, ids: list[str], transfers: list[Any]) -> None:
    """Transfers in one database transaction, without locking balance rows first."""
    async with engine.begin() as conn:
        for source, offset, amount in transfers:
            tx = str(uuid.uuid4())
            dest = (source + offset) % ACCOUNTS
            await conn.execute(text(INSERT_TX), {"id": tx})
            for account, delta in ((ids[source], -amount), (ids[dest], amount)):
                await conn.execute(
                    text(INSERT_LEG), {"tx": tx, "a": account, "c": code, "m": delta}
                )


async def scenario(url: str, history: list[list[list[Any]]]) -> None:
    engine = make_engine(url, pool_size=4, max_overflow=0)
    try:
        code, ids = await setup(engine)
        for round_ in history:
            results = await asyncio.gather(
                *(write(engine, code, ids, txs) for txs in round_), return_exceptions=True
            )
            # Unlocked concurrent writers may deadlock on the balance rows: PostgreSQL
            # aborts one, which writes nothing. Anything else is a failure.
            for result in results:
                if isinstance(result, BaseException):
                    assert isinstance(result, DBAPIError) and "deadlock" in str(result), result
        await check(engine, ids)
    finally:
        await engine.dispose()


async def check(engine: Any, ids: list[str]) -> None:
    factory = make_session_factory(engine)
    async with factory() as session:
        for account in ids:
            legs = (
                await session.execute(
                    text(
                        "SELECT amount, posted_at, balance_after FROM postings "
                        "WHERE account_id = :a ORDER BY account_seq"
                    ),
                    {"a": account},
                )
            ).all()
            instants = {leg.posted_at for leg in legs}
            instants |= {
                t + d
                for t in set(instants)
                for d in (timedelta(microseconds=1), -timedelta(microseconds=1))
            }
            for moment in sorted(instants):
                expected = sum(leg.amount for leg in legs if leg.posted_at <= moment)
                got = await repo.balance_at(session, account_id=uuid.UUID(account), moment=moment)
                assert got == expected, (account, moment)
                before = sum(leg.amount for leg in legs if leg.posted_at < moment)
                got_before = await repo.balance_at(
                    session, account_id=uuid.UUID(account), moment=moment, inclusive=False
                )
                assert got_before == before, (account, moment)
            posted = (
                await session.execute(
                    text("SELECT posted FROM account_balances WHERE account_id = :a"),
                    {"a": account},
                )
            ).scalar_one()
            assert posted == sum(leg.amount for leg in legs)
            assert [leg.balance_after for leg in legs] == list(
                itertools.accumulate(leg.amount for leg in legs)
            )


@pytest.fixture(scope="module")
def history_db(migrated_database: Callable[[str], str]) -> str:
    return migrated_database("ledger")


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(history=histories)
def test_balance_at_an_instant_is_the_sum_of_postings_up_to_it(
    history_db: str, history: list[list[list[Any]]]
) -> None:
    asyncio.run(scenario(history_db, history))


async def test_a_posting_slipped_into_a_committed_transaction_is_refused(
    history_db: str,
) -> None:
    """Only postings written with their transaction skip the per-posting zero-sum check."""
    engine = make_engine(history_db, pool_size=1, max_overflow=0)
    try:
        code, ids = await setup(engine)
        await write(engine, code, ids, [(0, 1, 10)])
        async with engine.connect() as conn:
            tx = (
                await conn.execute(
                    text("SELECT transaction_id FROM postings WHERE account_id = :a"), {"a": ids[0]}
                )
            ).scalar()
        with pytest.raises(DBAPIError, match="does not balance"):
            async with engine.begin() as conn:
                await conn.execute(text(INSERT_LEG), {"tx": tx, "a": ids[2], "c": code, "m": 5})
    finally:
        await engine.dispose()
