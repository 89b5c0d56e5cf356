"""Balance at an instant (one index lookup on ``balance_after``,
``ix_postings_account_posted_at``) equals the sum of the account's postings up to that
instant, for random histories written on real PostgreSQL: several transfers per database
transaction (equal timestamps), and concurrent writers that do not lock balance rows first
(the trigger orders them). Histories are written one leg per INSERT, and again through the
product's batch insert (``insert_transaction_columns``: many transfers' legs in one multi-row
statement, several on the same account, which the statement-level trigger
``tr_postings_apply_totals`` sums once per account), both checked against a model of the
legs written as well as against the trigger-written ``posted_at``/``account_seq``."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.ledger.accounts import repository as accounts_repo
from services.ledger.transactions import repository as repo
from shared.db import make_engine, make_session_factory
from tests.support.ledger_sql import authorise

ACCOUNTS = 3
Leg = tuple[uuid.UUID, str, int]
"""A leg as the model knows it: transaction id, account id, amount."""
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
                text(
                    "INSERT INTO accounts (id, currency, type, holder)"
                    " VALUES (:a, :c, 'member', 'test')"
                ),
                {"a": account, "c": code},
            )
            await conn.execute(
                text("INSERT INTO account_balances (account_id, currency) VALUES (:a, :c)"),
                {"a": account, "c": code},
            )
    return code, ids


async def write(engine: Any, code: str, ids: list[str], transfers: list[Any]) -> list[Leg]:
    """Transfers in one database transaction, without locking balance rows first; returns
    the legs in the order they were inserted."""
    written: list[Leg] = []
    async with engine.begin() as conn:
        for source, offset, amount in transfers:
            tx = uuid.uuid4()
            dest = (source + offset) % ACCOUNTS
            await conn.execute(text(INSERT_TX), {"id": str(tx)})
            for account, delta in ((ids[source], -amount), (ids[dest], amount)):
                await conn.execute(
                    text(INSERT_LEG), {"tx": str(tx), "a": account, "c": code, "m": delta}
                )
                await authorise(conn, str(tx), account, delta)
                written.append((tx, account, delta))
    return written


async def scenario(url: str, history: list[list[list[Any]]]) -> None:
    engine = make_engine(url, pool_size=4, max_overflow=0)
    try:
        code, ids = await setup(engine)
        committed: list[list[Leg]] = []
        for round_ in history:
            results = await asyncio.gather(
                *(write(engine, code, ids, txs) for txs in round_), return_exceptions=True
            )
            # Unlocked concurrent writers may deadlock on the balance rows: PostgreSQL
            # aborts one, which writes nothing. Anything else is a failure.
            for result in results:
                if isinstance(result, BaseException):
                    assert isinstance(result, DBAPIError) and "deadlock" in str(result), result
                else:
                    committed.append(result)
        await check(engine, ids)
        await check_model(engine, ids, committed)
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
                got = await accounts_repo.balance_at(
                    session, account_id=uuid.UUID(account), moment=moment
                )
                assert got == expected, (account, moment)
                before = sum(leg.amount for leg in legs if leg.posted_at < moment)
                got_before = await accounts_repo.balance_at(
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


# A batched history: rounds of concurrent database transactions, each running one or more
# statements; a statement holds one to four transfers whose legs (in an order drawn too, so
# an account's legs in a statement need not be adjacent) go in one multi-row INSERT. With
# three accounts, any two transfers put several legs on one account in the same statement.
statements = st.lists(transfer, min_size=1, max_size=4).flatmap(
    lambda transfers: st.tuples(st.just(transfers), st.permutations(range(2 * len(transfers))))
)
batched_histories = st.lists(
    st.lists(st.lists(statements, min_size=1, max_size=3), min_size=1, max_size=3),
    min_size=1,
    max_size=4,
)


async def write_batches(engine: Any, code: str, ids: list[str], batch: list[Any]) -> list[Leg]:
    """Statements in one database transaction, each through the product's batch insert (its
    transactions in one statement, all their legs in one more); returns the legs in the
    order they were inserted."""
    written: list[Leg] = []
    async with make_session_factory(engine)() as session, session.begin():
        for transfers, order in batch:
            tx_ids = [uuid.uuid4() for _ in transfers]
            legs: list[Leg] = []
            for tx, (source, offset, amount) in zip(tx_ids, transfers, strict=True):
                dest = (source + offset) % ACCOUNTS
                legs += [(tx, ids[source], -amount), (tx, ids[dest], amount)]
            legs = [legs[i] for i in order]
            n = len(tx_ids)
            await repo.insert_transaction_columns(
                session,
                ids=tx_ids,
                kinds=["transfer"] * n,
                effective_dates=[date.today()] * n,
                descriptions=[""] * n,
                metadata=[{}] * n,
                client_id="prop",
                legs=(
                    [tx for tx, _, _ in legs],
                    [uuid.UUID(account) for _, account, _ in legs],
                    [code] * len(legs),
                    [amount for _, _, amount in legs],
                ),
                authorities=[
                    (tx, uuid.UUID(account), "operator", "prop", None, -amount)
                    for tx, account, amount in legs
                    if amount < 0
                ],
            )
            written += legs
    return written


async def batched_scenario(url: str, history: list[list[list[Any]]]) -> None:
    engine = make_engine(url, pool_size=4, max_overflow=0)
    try:
        code, ids = await setup(engine)
        committed: list[list[Leg]] = []
        for round_ in history:
            results = await asyncio.gather(
                *(write_batches(engine, code, ids, batch) for batch in round_),
                return_exceptions=True,
            )
            for result in results:
                if isinstance(result, BaseException):
                    assert isinstance(result, DBAPIError) and "deadlock" in str(result), result
                else:
                    committed.append(result)
        await check(engine, ids)
        await check_model(engine, ids, committed)
    finally:
        await engine.dispose()


_AROUND = (timedelta(0), timedelta(microseconds=1), -timedelta(microseconds=1))


async def check_model(engine: Any, ids: list[str], committed: list[list[Leg]]) -> None:
    """Every balance the triggers computed, against the legs written.

    A database transaction holds an account's balance row from its first leg on it to its
    commit, so the account's postings are, per committed transaction, that transaction's
    legs on it in the order inserted; those blocks follow each other in the order the
    database numbered them (taken from it, as concurrent writers race). The model's running
    sums and instants (each leg at its transaction's ``inserted_at``, never before the
    account's previous leg) come from these legs alone, not from ``balance_after``,
    ``posted_at`` or the balance row the triggers wrote.
    """
    writer = {tx: w for w, legs in enumerate(committed) for tx, _, _ in legs}
    factory = make_session_factory(engine)
    async with factory() as session:
        for account in ids:
            rows = (
                await session.execute(
                    text(
                        "SELECT p.transaction_id, p.amount, t.inserted_at FROM postings p "
                        "JOIN transactions t ON t.id = p.transaction_id "
                        "WHERE p.account_id = :a ORDER BY p.account_seq"
                    ),
                    {"a": account},
                )
            ).all()
            turns = list(dict.fromkeys(writer[row.transaction_id] for row in rows))
            model = [
                (tx, amount)
                for w in turns
                for tx, leg_account, amount in committed[w]
                if leg_account == account
            ]
            assert [(row.transaction_id, row.amount) for row in rows] == model, account
            inserted_at = {row.transaction_id: row.inserted_at for row in rows}
            instants: list[datetime] = list(
                itertools.accumulate((inserted_at[tx] for tx, _ in model), max)
            )
            running = list(itertools.accumulate(amount for _, amount in model))
            moments = {t + d for t in instants for d in _AROUND}
            for moment in sorted(moments):
                upto = [i for i, t in enumerate(instants) if t <= moment]
                before = [i for i, t in enumerate(instants) if t < moment]
                got = await accounts_repo.balance_at(
                    session, account_id=uuid.UUID(account), moment=moment
                )
                assert got == (running[upto[-1]] if upto else 0), (account, moment)
                got_before = await accounts_repo.balance_at(
                    session, account_id=uuid.UUID(account), moment=moment, inclusive=False
                )
                assert got_before == (running[before[-1]] if before else 0), (account, moment)
            balance = (
                await session.execute(
                    text(
                        "SELECT posted, postings, last_posted_at FROM account_balances "
                        "WHERE account_id = :a"
                    ),
                    {"a": account},
                )
            ).one()
            assert balance.posted == sum(amount for _, amount in model), account
            assert balance.postings == len(model), account
            if model:
                assert balance.last_posted_at == instants[-1], account


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(history=batched_histories)
def test_balance_at_an_instant_holds_for_legs_inserted_many_per_statement(
    history_db: str, history: list[list[list[Any]]]
) -> None:
    asyncio.run(batched_scenario(history_db, history))


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
