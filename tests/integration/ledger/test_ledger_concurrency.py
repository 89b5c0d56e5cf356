"""Many concurrent clients hammering a few hot accounts: no overdraft, no deadlock reaching a
client, no money created or lost."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

from sqlalchemy import text

from tests.integration.ledger.ledger_support import CURRENCY, Ledger

CLIENTS = 50
TRANSFERS_PER_CLIENT = 40
HOT_ACCOUNTS = 4


async def test_concurrent_transfers_never_overdraw_nor_deadlock(ledger: Ledger) -> None:
    issuer = await ledger.account(type="issuer")
    hot = [await ledger.account(type="member") for _ in range(HOT_ACCOUNTS)]
    for account in hot:
        assert (await ledger.transfer(issuer, account, 1_000)).status_code == 201
    outcomes: Counter[tuple[int, str]] = Counter()

    async def client(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(TRANSFERS_PER_CLIENT):
            source, dest = rng.sample(hot, 2)
            # Amounts large enough that many transfers would overdraw if checks raced.
            r = await ledger.transfer(source, dest, rng.randint(1, 600))
            code = r.json().get("code", "posted") if r.status_code != 201 else "posted"
            outcomes[(r.status_code, code)] += 1

    await asyncio.gather(*(client(seed) for seed in range(CLIENTS)))

    assert set(outcomes) <= {(201, "posted"), (409, "insufficient-funds")}, outcomes
    assert outcomes[(201, "posted")] > 0 and outcomes[(409, "insufficient-funds")] > 0
    assert sum(outcomes.values()) == CLIENTS * TRANSFERS_PER_CLIENT
    factory = ledger.client.app.state.session_factory  # type: ignore[attr-defined]
    async with factory() as session:
        balances = (
            await session.execute(
                text(
                    "SELECT b.account_id, b.posted, coalesce(sum(p.amount), 0) AS total "
                    "FROM account_balances b LEFT JOIN postings p ON p.account_id = b.account_id "
                    "WHERE b.currency = :c GROUP BY b.account_id, b.posted"
                ),
                {"c": CURRENCY},
            )
        ).all()
    assert sum(row.posted for row in balances) == 0
    assert all(row.posted == row.total for row in balances)
    assert all(row.posted >= 0 for row in balances if str(row.account_id) != issuer)
    assert sum(row.posted for row in balances if str(row.account_id) in hot) == 4_000
