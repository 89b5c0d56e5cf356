"""The bench's database floor (`bench/ledger/db_floor.py`) posts real transfers: its pgbench
scripts, built from the repository's own SQL, run through the ledger's triggers and leave
balanced, keyed transactions with their outbox rows. Guards the floor against a change of
the posting SQL that would leave it measuring something else (or nothing)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.ledger import db_floor
from deploy.local.postgres import LocalPostgres

ACCOUNTS = [f"00000000-0000-0000-0000-00000000000{i}" for i in range(1, 5)]
SETUP = [
    "INSERT INTO currencies (code, kind, scale, operator)"
    " VALUES ('BENCH', 'mutual_credit', 2, 'b')",
    "INSERT INTO accounts (id, currency, type, holder)"
    " SELECT CAST(a AS uuid), 'BENCH', 'member', 'bench'"
    " FROM unnest(CAST(:ids AS text[])) a",
    "INSERT INTO account_balances (account_id, currency) SELECT CAST(a AS uuid), 'BENCH'"
    " FROM unnest(CAST(:ids AS text[])) a",
]


async def test_the_floor_scripts_post_balanced_keyed_transfers_through_the_triggers(
    postgres: LocalPostgres,
    migrated_database: Callable[[str], str],
    engine_for: Callable[[str], AsyncEngine],
    tmp_path: Path,
) -> None:
    url = migrated_database("ledger")
    engine = engine_for(url)
    async with engine.begin() as conn:
        for statement in SETUP:
            await conn.execute(text(statement), {"ids": ACCOUNTS})

    rates = db_floor.measure(
        postgres,
        make_url(url).database or "",
        ACCOUNTS,
        currency="BENCH",
        clients=2,
        seconds=1,
        batch=10,
        workdir=tmp_path,
    )

    assert rates["single_tps"] > 0 and rates["batch_tps"] > 0
    async with engine.connect() as conn:
        found = (
            await conn.execute(
                text(
                    "SELECT count(*) AS transactions,"
                    " (SELECT count(*) FROM postings) AS postings,"
                    " (SELECT count(*) FROM outbox) AS events,"
                    " (SELECT count(*) FROM idempotency_keys WHERE response IS NOT NULL) AS keys,"
                    " (SELECT sum(posted) FROM account_balances) AS circulation,"
                    " (SELECT count(*) FROM account_balances b WHERE b.posted <>"
                    "   (SELECT coalesce(sum(amount), 0) FROM postings p"
                    "    WHERE p.account_id = b.account_id)) AS drifted"
                    " FROM transactions WHERE client_id = 'bench-floor'"
                )
            )
        ).one()
    assert found.transactions > 10
    assert found.postings == 2 * found.transactions
    assert found.events == found.transactions
    # one answered key per single transfer and per batch: fewer keys than transactions
    assert 0 < found.keys < found.transactions
    assert (found.circulation, found.drifted) == (0, 0)
