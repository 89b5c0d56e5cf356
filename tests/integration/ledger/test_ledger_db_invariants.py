"""The database itself refuses what would break the ledger, whatever code (or psql) tries."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.ledger_sql import AUTHORITIES_FROM_JSON, authorise

SETUP = """
INSERT INTO currencies (code, kind, scale, operator) VALUES ('GONETTE', 'euro_backed', 2, 'a'),
    ('WIR', 'mutual_credit', 2, 'b');
INSERT INTO accounts (id, currency, type, holder) VALUES
    ('00000000-0000-0000-0000-000000000001', 'GONETTE', 'issuer', 't'),
    ('00000000-0000-0000-0000-000000000002', 'GONETTE', 'member', 't'),
    ('00000000-0000-0000-0000-000000000003', 'GONETTE', 'merchant', 't'),
    ('00000000-0000-0000-0000-000000000004', 'WIR', 'member', 't');
INSERT INTO account_balances (account_id, currency, lower_bound, upper_bound) VALUES
    ('00000000-0000-0000-0000-000000000001', 'GONETTE', NULL, 0),
    ('00000000-0000-0000-0000-000000000002', 'GONETTE', 0, 100000),
    ('00000000-0000-0000-0000-000000000003', 'GONETTE', 0, NULL),
    ('00000000-0000-0000-0000-000000000004', 'WIR', -500, NULL)
"""
ISSUER, MEMBER, MERCHANT, WIR_MEMBER = (
    f"00000000-0000-0000-0000-00000000000{i}" for i in range(1, 5)
)


@pytest.fixture
async def db(
    migrated_database: Callable[[str], str], engine_for: Callable[[str], AsyncEngine]
) -> AsyncEngine:
    engine = engine_for(migrated_database("ledger"))
    async with engine.begin() as conn:
        for statement in SETUP.split(";"):
            await conn.execute(text(statement))
    return engine


async def post(engine: AsyncEngine, *legs: tuple[str, str, int]) -> str:
    """Insert a transaction and its legs with raw SQL, in one transaction."""
    tx = str(uuid.uuid4())
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO transactions (id, kind, effective_date, client_id) "
                "VALUES (:id, 'transfer', current_date, 'psql')"
            ),
            {"id": tx},
        )
        for account, currency, amount in legs:
            await conn.execute(
                text(
                    "INSERT INTO postings (transaction_id, account_id, currency, amount) "
                    "VALUES (:tx, :a, :c, :m)"
                ),
                {"tx": tx, "a": account, "c": currency, "m": amount},
            )
            await authorise(conn, tx, account, amount)
    return tx


async def balance(engine: AsyncEngine, account: str) -> tuple[int, int]:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT posted, held FROM account_balances WHERE account_id = :a"),
                {"a": account},
            )
        ).one()
    return row.posted, row.held


async def test_a_balanced_transaction_is_accepted_and_maintains_balances(db: AsyncEngine) -> None:
    await post(db, (ISSUER, "GONETTE", -700), (MEMBER, "GONETTE", 700))
    assert await balance(db, MEMBER) == (700, 0)
    assert await balance(db, ISSUER) == (-700, 0)


async def test_an_unbalanced_transaction_is_refused_at_commit(db: AsyncEngine) -> None:
    with pytest.raises(DBAPIError, match="does not balance"):
        await post(db, (ISSUER, "GONETTE", -700), (MEMBER, "GONETTE", 600))
    assert await balance(db, MEMBER) == (0, 0)


async def test_a_transaction_with_one_posting_is_refused(db: AsyncEngine) -> None:
    with pytest.raises(DBAPIError, match="needs at least 2"):
        await post(db, (ISSUER, "GONETTE", -700))


async def test_a_transaction_without_postings_is_refused(db: AsyncEngine) -> None:
    with pytest.raises(DBAPIError, match="needs at least 2"):
        await post(db)


async def test_each_currency_must_balance_on_its_own(db: AsyncEngine) -> None:
    with pytest.raises(DBAPIError, match="does not balance"):
        await post(db, (ISSUER, "GONETTE", -700), (WIR_MEMBER, "WIR", 700))


async def test_a_zero_amount_is_refused(db: AsyncEngine) -> None:
    with pytest.raises(DBAPIError, match="ck_postings_amount_not_zero"):
        await post(db, (ISSUER, "GONETTE", 0), (MEMBER, "GONETTE", 0))


async def test_a_posting_in_another_currency_than_its_account_is_refused(db: AsyncEngine) -> None:
    with pytest.raises(DBAPIError, match="fk_postings_account_id_accounts"):
        await post(db, (WIR_MEMBER, "GONETTE", -5), (MEMBER, "GONETTE", 5))


async def test_an_overdraft_is_refused_by_the_lower_bound_check(db: AsyncEngine) -> None:
    with pytest.raises(DBAPIError, match="ck_account_balances_lower_bound"):
        await post(db, (MEMBER, "GONETTE", -1), (MERCHANT, "GONETTE", 1))


async def test_a_credit_above_the_upper_bound_is_refused(db: AsyncEngine) -> None:
    with pytest.raises(DBAPIError, match="ck_account_balances_upper_bound"):
        await post(db, (ISSUER, "GONETTE", -100001), (MEMBER, "GONETTE", 100001))
    with pytest.raises(DBAPIError, match="ck_account_balances_upper_bound"):
        await post(db, (ISSUER, "GONETTE", 1), (MERCHANT, "GONETTE", -1))


async def test_a_credit_line_allows_going_negative_down_to_its_limit(db: AsyncEngine) -> None:
    async with db.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO accounts (id, currency, type, holder) VALUES "
                "('00000000-0000-0000-0000-000000000005', 'WIR', 'member', 't');"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO account_balances (account_id, currency, lower_bound) VALUES "
                "('00000000-0000-0000-0000-000000000005', 'WIR', -500)"
            )
        )
    other = "00000000-0000-0000-0000-000000000005"
    await post(db, (WIR_MEMBER, "WIR", -500), (other, "WIR", 500))
    with pytest.raises(DBAPIError, match="lower_bound"):
        await post(db, (WIR_MEMBER, "WIR", -1), (other, "WIR", 1))


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE postings SET amount = amount * 2",
        "DELETE FROM postings",
        "UPDATE transactions SET description = 'edited'",
        "DELETE FROM transactions",
        "TRUNCATE postings",
        "TRUNCATE transactions CASCADE",
    ],
)
async def test_posted_rows_are_immutable(db: AsyncEngine, statement: str) -> None:
    await post(db, (ISSUER, "GONETTE", -700), (MEMBER, "GONETTE", 700))
    with pytest.raises(DBAPIError, match="append-only"):
        async with db.begin() as conn:
            await conn.execute(text(statement))
    assert await balance(db, MEMBER) == (700, 0)


async def test_a_transaction_is_reversed_at_most_once(db: AsyncEngine) -> None:
    original = await post(db, (ISSUER, "GONETTE", -700), (MEMBER, "GONETTE", 700))
    insert = text(
        "INSERT INTO transactions (id, kind, effective_date, client_id, reverses) "
        "VALUES (:id, 'reversal', current_date, 'psql', :orig)"
    )
    async with db.begin() as conn:
        await conn.execute(insert, {"id": str(uuid.uuid4()), "orig": original})
        with pytest.raises(DBAPIError, match="uq_transactions_reverses"):
            async with conn.begin_nested():
                await conn.execute(insert, {"id": str(uuid.uuid4()), "orig": original})
        await conn.rollback()


async def test_held_follows_authorized_holds_and_counts_against_the_lower_bound(
    db: AsyncEngine,
) -> None:
    await post(db, (ISSUER, "GONETTE", -700), (MEMBER, "GONETTE", 700))
    hold = str(uuid.uuid4())
    async with db.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO holds (id, payer, payee, currency, amount, expires_at) "
                "VALUES (:id, :p, :q, 'GONETTE', 600, now() + interval '1 hour')"
            ),
            {"id": hold, "p": MEMBER, "q": MERCHANT},
        )
    assert await balance(db, MEMBER) == (700, 600)
    with pytest.raises(DBAPIError, match="lower_bound"):
        await post(db, (MEMBER, "GONETTE", -101), (MERCHANT, "GONETTE", 101))
    async with db.begin() as conn:
        await conn.execute(text("UPDATE holds SET status = 'voided' WHERE id = :id"), {"id": hold})
    assert await balance(db, MEMBER) == (700, 0)
    with pytest.raises(DBAPIError, match="already voided"):
        async with db.begin() as conn:
            await conn.execute(
                text("UPDATE holds SET status = 'authorized' WHERE id = :id"), {"id": hold}
            )


async def test_a_hold_beyond_the_available_balance_is_refused(db: AsyncEngine) -> None:
    with pytest.raises(DBAPIError, match="lower_bound"):
        async with db.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO holds (id, payer, payee, currency, amount, expires_at) "
                    "VALUES (:id, :p, :q, 'GONETTE', 1, now() + interval '1 hour')"
                ),
                {"id": str(uuid.uuid4()), "p": MEMBER, "q": MERCHANT},
            )


MANY = """
INSERT INTO postings (transaction_id, account_id, currency, amount)
SELECT CAST(tx AS uuid), CAST(account AS uuid), 'GONETTE', amount
FROM jsonb_to_recordset(CAST(:legs AS jsonb)) AS legs (tx text, account text, amount bigint)
"""


async def post_many(engine: AsyncEngine, *transactions: tuple[int, ...]) -> None:
    """Transactions of ISSUER -> MEMBER -> MERCHANT amounts, every posting of them in ONE
    statement (as batches write them): each tuple is (issuer to member, member to merchant);
    zero legs are left out."""
    import json

    legs = []
    async with engine.begin() as conn:
        for to_member, to_merchant in transactions:
            tx = str(uuid.uuid4())
            await conn.execute(
                text(
                    "INSERT INTO transactions (id, kind, effective_date, client_id) "
                    "VALUES (:id, 'transfer', current_date, 'psql')"
                ),
                {"id": tx},
            )
            moves = ((ISSUER, -to_member), (MEMBER, to_member - to_merchant))
            legs += [
                {"tx": tx, "account": account, "amount": amount}
                for account, amount in (*moves, (MERCHANT, to_merchant))
                if amount
            ]
        await conn.execute(text(MANY), {"legs": json.dumps(legs)})
        await conn.execute(AUTHORITIES_FROM_JSON, {"legs": json.dumps(legs)})


async def test_postings_of_one_statement_are_numbered_and_summed_in_order(db: AsyncEngine) -> None:
    await post(db, (ISSUER, "GONETTE", -10), (MEMBER, "GONETTE", 10))
    await post_many(db, (100, 30), (50, 0), (0, 60))
    async with db.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT amount, balance_after, account_seq FROM postings "
                    "WHERE account_id = :a ORDER BY account_seq"
                ),
                {"a": MEMBER},
            )
        ).all()
        assert [tuple(r) for r in rows] == [(10, 10, 1), (70, 80, 2), (50, 130, 3), (-60, 70, 4)]
        stamps = (
            await conn.execute(
                text("SELECT posted_at FROM postings WHERE account_id = :a ORDER BY account_seq"),
                {"a": MEMBER},
            )
        ).scalars()
        stamps = list(stamps)
        assert stamps == sorted(stamps)
        counters = (
            await conn.execute(
                text("SELECT postings, last_posted_at FROM account_balances WHERE account_id = :a"),
                {"a": MEMBER},
            )
        ).one()
        assert tuple(counters) == (4, stamps[-1])
    assert await balance(db, MEMBER) == (70, 0)
    assert await balance(db, MERCHANT) == (90, 0)
    assert await balance(db, ISSUER) == (-160, 0)


async def test_a_bound_crossed_inside_one_statement_is_refused(db: AsyncEngine) -> None:
    """The member ends at 20, but passes through -40 between two of the statement's
    transactions: refused, as a posting-by-posting update would have been."""
    await post(db, (ISSUER, "GONETTE", -20), (MEMBER, "GONETTE", 20))
    with pytest.raises(DBAPIError, match="ck_account_balances_lower_bound"):
        await post_many(db, (0, 60), (60, 0))
    assert await balance(db, MEMBER) == (20, 0)
    with pytest.raises(DBAPIError, match="ck_account_balances_upper_bound"):
        await post_many(db, (99_990, 0), (0, 99_990))
    assert await balance(db, MEMBER) == (20, 0)
