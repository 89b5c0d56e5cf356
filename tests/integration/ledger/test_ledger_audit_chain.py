"""The audit chain: sealed once, in order, verifiable; tampering is named to the link."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.ledger.audit.rules.chain import GENESIS
from services.ledger.audit.service.sealer import (
    LOCK_KEY,
    run_sealer,
    seal_all,
    seal_pending,
    seal_stragglers,
)
from services.ledger.audit.service.verification import verify_chain
from shared.db import make_session_factory
from tests.support.ledger_sql import authorise

SETUP = """
INSERT INTO currencies (code, kind, scale, operator) VALUES ('GONETTE', 'euro_backed', 2, 'a'),
    ('WIR', 'mutual_credit', 2, 'b');
INSERT INTO accounts (id, currency, type, holder) VALUES
    ('00000000-0000-0000-0000-000000000001', 'GONETTE', 'issuer', 't'),
    ('00000000-0000-0000-0000-000000000002', 'GONETTE', 'member', 't'),
    ('00000000-0000-0000-0000-000000000003', 'WIR', 'member', 't'),
    ('00000000-0000-0000-0000-000000000004', 'WIR', 'member', 't');
INSERT INTO account_balances (account_id, currency, lower_bound, upper_bound) VALUES
    ('00000000-0000-0000-0000-000000000001', 'GONETTE', NULL, NULL),
    ('00000000-0000-0000-0000-000000000002', 'GONETTE', NULL, NULL),
    ('00000000-0000-0000-0000-000000000003', 'WIR', NULL, NULL),
    ('00000000-0000-0000-0000-000000000004', 'WIR', NULL, NULL)
"""
ISSUER, MEMBER, WIR_A, WIR_B = (f"00000000-0000-0000-0000-00000000000{i}" for i in range(1, 5))

Factory = async_sessionmaker[AsyncSession]


@pytest.fixture
async def db(
    migrated_database: Callable[[str], str], engine_for: Callable[[str], AsyncEngine]
) -> AsyncEngine:
    engine = engine_for(migrated_database("ledger"))
    async with engine.begin() as conn:
        for statement in SETUP.split(";"):
            await conn.execute(text(statement))
    return engine


@pytest.fixture
def factory(db: AsyncEngine) -> Factory:
    return make_session_factory(db)


INSERT_TX = (
    "INSERT INTO transactions (id, kind, effective_date, client_id) "
    "VALUES (:id, 'transfer', DATE '2026-11-20', 'test')"
)
INSERT_LEG = (
    "INSERT INTO postings (transaction_id, account_id, currency, amount) VALUES (:tx, :a, :c, :m)"
)


async def insert(conn: object, *legs: tuple[str, str, int]) -> str:
    tx = str(uuid.uuid4())
    await conn.execute(text(INSERT_TX), {"id": tx})  # type: ignore[attr-defined]
    for account, currency, amount in legs:
        await conn.execute(  # type: ignore[attr-defined]
            text(INSERT_LEG), {"tx": tx, "a": account, "c": currency, "m": amount}
        )
        await authorise(conn, tx, account, amount)
    return tx


async def transfer(engine: AsyncEngine, amount: int = 100) -> str:
    async with engine.begin() as conn:
        return await insert(conn, (ISSUER, "GONETTE", -amount), (MEMBER, "GONETTE", amount))


async def verify(factory: Factory, currency: str = "GONETTE", page: int = 1000) -> dict:
    async with factory() as session, session.begin():
        return await verify_chain(session, currency=currency, page=page)


async def chain(engine: AsyncEngine, currency: str) -> list[tuple[int, str, str, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT position, transaction_id::text, prev_hash, hash FROM audit_chain "
                "WHERE currency = :c ORDER BY position"
            ),
            {"c": currency},
        )
        return [tuple(r) for r in rows]


async def tamper(engine: AsyncEngine, statement: str, **params: object) -> None:
    """Change a row as a superuser who switched the append-only triggers off."""
    async with engine.begin() as conn:
        await conn.execute(text("SET LOCAL session_replication_role = replica"))
        await conn.execute(text(statement), params)


async def test_sealed_transactions_form_a_verified_chain(db: AsyncEngine, factory: Factory) -> None:
    txs = [await transfer(db, amount) for amount in (100, 250, 40)]
    assert (await verify(factory))["unsealed_transactions"] == 3

    assert await seal_all(factory) == 3

    links = await chain(db, "GONETTE")
    assert [(p, tx) for p, tx, _, _ in links] == [(1, txs[0]), (2, txs[1]), (3, txs[2])]
    assert links[0][2] == GENESIS
    assert [prev for _, _, prev, _ in links[1:]] == [h for _, _, _, h in links[:-1]]
    assert await verify(factory, page=2) == {
        "currency": "GONETTE",
        "verified_links": 3,
        "unsealed_transactions": 0,
        "first_broken": None,
    }


async def test_a_multi_currency_transaction_joins_each_currency_chain(
    db: AsyncEngine, factory: Factory
) -> None:
    await transfer(db)
    async with db.begin() as conn:
        both = await insert(
            conn,
            (ISSUER, "GONETTE", -5),
            (MEMBER, "GONETTE", 5),
            (WIR_A, "WIR", -7),
            (WIR_B, "WIR", 7),
        )
    await seal_all(factory)
    assert [(p, tx) for p, tx, _, _ in await chain(db, "WIR")] == [(1, both)]
    assert [(p, tx) for p, tx, _, _ in await chain(db, "GONETTE")][1] == (2, both)
    assert (await verify(factory, "WIR"))["verified_links"] == 1
    assert (await verify(factory, "GONETTE"))["verified_links"] == 2


async def test_a_changed_posting_amount_is_named_as_the_first_broken_link(
    db: AsyncEngine, factory: Factory
) -> None:
    txs = [await transfer(db, amount) for amount in (100, 250, 40, 10)]
    await seal_all(factory)
    stored = {tx: h for _, tx, _, h in await chain(db, "GONETTE")}

    await tamper(
        db,
        "UPDATE postings SET amount = 2500 WHERE transaction_id = :tx AND account_id = :a",
        tx=txs[1],
        a=MEMBER,
    )

    report = await verify(factory, page=1)
    assert report["verified_links"] == 1
    broken = report["first_broken"]
    assert broken["position"] == 2
    assert str(broken["transaction_id"]) == txs[1]
    assert broken["reason"] == "hash_mismatch"
    assert broken["stored_hash"] == stored[txs[1]]
    assert broken["expected_hash"] != stored[txs[1]]


async def test_a_rewritten_chain_hash_is_named_as_the_first_broken_link(
    db: AsyncEngine, factory: Factory
) -> None:
    txs = [await transfer(db, amount) for amount in (1, 2, 3)]
    await seal_all(factory)
    original = (await chain(db, "GONETTE"))[2][3]

    await tamper(
        db,
        "UPDATE audit_chain SET hash = :h WHERE currency = 'GONETTE' AND position = 3",
        h="f" * 64,
    )

    broken = (await verify(factory))["first_broken"]
    assert broken == {
        "position": 3,
        "transaction_id": uuid.UUID(txs[2]),
        "expected_hash": original,
        "stored_hash": "f" * 64,
        "reason": "hash_mismatch",
    }


async def test_a_removed_link_is_named_as_a_position_gap(db: AsyncEngine, factory: Factory) -> None:
    txs = [await transfer(db, amount) for amount in (1, 2, 3)]
    await seal_all(factory)
    await tamper(db, "DELETE FROM audit_chain WHERE currency = 'GONETTE' AND position = 2")

    report = await verify(factory)
    assert report["verified_links"] == 1
    assert report["first_broken"]["position"] == 3
    assert str(report["first_broken"]["transaction_id"]) == txs[2]
    assert report["first_broken"]["reason"] == "position_gap"


async def test_the_chain_refuses_update_and_delete(db: AsyncEngine, factory: Factory) -> None:
    await transfer(db)
    await seal_all(factory)
    for statement in (
        "UPDATE audit_chain SET hash = repeat('0', 64)",
        "DELETE FROM audit_chain",
        "TRUNCATE audit_chain",
    ):
        with pytest.raises(Exception, match="append-only"):
            async with db.begin() as conn:
                await conn.execute(text(statement))


async def test_the_sealer_resumes_page_by_page(db: AsyncEngine, factory: Factory) -> None:
    for amount in range(1, 8):
        await transfer(db, amount)
    assert await seal_pending(factory, limit=3, margin_s=0) == 3
    assert (await verify(factory))["unsealed_transactions"] == 4
    await transfer(db, 99)
    assert await seal_all(factory, limit=3, margin_s=0) == 5
    report = await verify(factory)
    assert (report["verified_links"], report["unsealed_transactions"]) == (8, 0)
    async with db.connect() as conn:
        watermark = (
            await conn.execute(text("SELECT watermark_seq FROM audit_sealer_state"))
        ).scalar()
        top = (await conn.execute(text("SELECT max(seq) FROM transactions"))).scalar()
    assert watermark == top


async def test_concurrent_sealers_never_seal_a_transaction_twice(
    db: AsyncEngine, factory: Factory
) -> None:
    for amount in range(1, 41):
        await transfer(db, amount)

    outcomes = await asyncio.gather(
        *(seal_all(factory, limit=4, margin_s=0) for _ in range(4)), return_exceptions=True
    )
    assert any(isinstance(o, int) for o in outcomes)
    # A losing sealer waits on the watermark row and fails on the update conflict
    # (REPEATABLE READ: 40001); it must never get as far as a double link, which the
    # unique constraints would refuse (23505) -- that would mean the row lock let it in.
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    assert all(isinstance(o, DBAPIError) for o in failures), failures
    states = [getattr(o.orig, "sqlstate", None) for o in failures if isinstance(o, DBAPIError)]
    assert all(state == "40001" for state in states), failures
    await seal_all(factory, margin_s=0)  # whatever a failed round left behind

    links = await chain(db, "GONETTE")
    assert [p for p, _, _, _ in links] == list(range(1, 41))
    assert len({tx for _, tx, _, _ in links}) == 40
    assert (await verify(factory))["first_broken"] is None


async def test_a_late_commit_below_the_sealed_seq_is_still_sealed(
    db: AsyncEngine, factory: Factory
) -> None:
    async with db.connect() as slow:
        await slow.begin()
        late = await insert(slow, (WIR_A, "WIR", -3), (WIR_B, "WIR", 3))  # lower seq, open
        early = await transfer(db)
        await seal_all(factory, margin_s=0)
        assert [tx for _, tx, _, _ in await chain(db, "GONETTE")] == [early]
        await slow.commit()

    await seal_all(factory, margin_s=0)
    assert [tx for _, tx, _, _ in await chain(db, "WIR")] == [late]
    assert (await verify(factory, "WIR"))["unsealed_transactions"] == 0


async def test_two_sealer_processes_elect_one_leader_and_chain_everything_once(
    db: AsyncEngine, factory: Factory
) -> None:
    stop = asyncio.Event()
    sealers = [
        asyncio.create_task(run_sealer(db, factory, interval_s=0.05, margin_s=0, stop=stop))
        for _ in range(2)
    ]
    try:
        for amount in range(1, 21):
            await transfer(db, amount)
        for _ in range(200):
            if (await verify(factory))["unsealed_transactions"] == 0:
                break
            await asyncio.sleep(0.05)
        async with db.connect() as conn:
            holders = await conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :k "
                    "AND database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database())"
                ),
                {"k": LOCK_KEY & 0xFFFFFFFF},
            )
            assert holders.scalar() == 1
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*sealers), timeout=30)

    links = await chain(db, "GONETTE")
    assert [p for p, _, _, _ in links] == list(range(1, 21))
    assert len({tx for _, tx, _, _ in links}) == 20
    assert (await verify(factory))["first_broken"] is None


async def test_a_transaction_left_below_the_watermark_is_swept_by_the_next_leader(
    db: AsyncEngine, factory: Factory
) -> None:
    first = await transfer(db)
    straggler = await transfer(db)
    async with db.begin() as conn:  # as if the watermark's assumptions had been broken
        await conn.execute(
            text(
                "UPDATE audit_sealer_state SET watermark_seq = (SELECT max(seq) FROM transactions)"
            )
        )
    await seal_all(factory, margin_s=0)
    assert await chain(db, "GONETTE") == []

    assert await seal_stragglers(factory, limit=1) == 2

    assert [tx for _, tx, _, _ in await chain(db, "GONETTE")] == [first, straggler]
    assert (await verify(factory))["verified_links"] == 2


async def test_hashing_a_page_lets_the_event_loop_serve_others(
    db: AsyncEngine, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker's requests must not wait behind a whole page of hashing (the p99 of the
    posting path): between two turns of another task, at most ``YIELD_EVERY`` links are
    hashed."""
    from services.ledger.audit.service import sealer as audit_sealer

    async with db.begin() as conn:
        for amount in range(1, 101):
            await insert(conn, (ISSUER, "GONETTE", -amount), (MEMBER, "GONETTE", amount))
    streak = longest = 0
    real_hash = audit_sealer.link_hash

    def counted_hash(*args: object, **kwargs: object) -> str:
        nonlocal streak, longest
        streak += 1
        longest = max(longest, streak)
        return real_hash(*args, **kwargs)  # type: ignore[arg-type]

    async def other_request(done: asyncio.Event) -> None:
        nonlocal streak
        while not done.is_set():
            streak = 0
            await asyncio.sleep(0)

    monkeypatch.setattr(audit_sealer, "link_hash", counted_hash)
    done = asyncio.Event()
    other = asyncio.create_task(other_request(done))
    try:
        assert await seal_pending(factory, margin_s=0) == 100
    finally:
        done.set()
        await other
    assert 0 < longest <= audit_sealer.YIELD_EVERY < 100
