"""A ledger backed up with pg_dump and restored into a fresh PostgreSQL server, as an
operator would after losing the first one: the audit chain verifies link for link, every
balance is the one the API answered before the dump, a replayed idempotency key answers
the transaction it created (nothing doubled), and posting carries on with the chain."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from deploy.local.postgres import LocalPostgres
from services.ledger.app import create_app
from tests.integration.ledger.ledger_support import CURRENCY, Ledger, ledger_settings
from tests.support.apps import serve
from tests.support.ports import free_port


async def _sealed(ledger: Ledger) -> dict[str, Any]:
    """The chain once the background sealer has caught up with every commit."""
    for _ in range(300):
        r = await ledger.client.get(f"/currencies/{CURRENCY}/audit/verify", headers=ledger.headers)
        assert r.status_code == 200, r.text
        if r.json()["unsealed_transactions"] == 0:
            return dict(r.json())
        await asyncio.sleep(0.1)
    raise AssertionError("the sealer did not catch up")


async def _balances(ledger: Ledger, accounts: list[str]) -> dict[str, int]:
    return {a: (await ledger.balance(a))["posted"] for a in accounts}


@pytest.fixture
def fresh_server(tmp_path: Path) -> Any:
    server = LocalPostgres(data_dir=tmp_path / "restored", port=free_port(), durable=False)
    server.start()
    yield server
    server.destroy()


async def test_a_restored_ledger_verifies_balances_and_keeps_posting(
    ledger: Ledger,
    ledger_db: str,
    postgres: LocalPostgres,
    fresh_server: LocalPostgres,
    new_database: Callable[[str], str],
) -> None:
    issuer, alice = await ledger.funded(50_000)
    shops = [await ledger.account(type="merchant") for _ in range(3)]
    keyed: dict[str, str] = {}
    for n in range(24):
        key = f"backup-{n}"
        r = await ledger.client.post(
            "/transactions",
            json={
                "postings": [
                    {"account_id": alice, "currency": CURRENCY, "amount": -(100 + n)},
                    {"account_id": shops[n % 3], "currency": CURRENCY, "amount": 100 + n},
                ]
            },
            headers={**ledger.headers, "Idempotency-Key": key},
        )
        assert r.status_code == 201, r.text
        keyed[key] = r.json()["id"]
    reversal = await ledger.client.post(
        f"/transactions/{keyed['backup-0']}/reversal", json={}, headers=ledger.headers
    )
    assert reversal.status_code == 201, reversal.text
    accounts = [issuer, alice, *shops]
    before = await _balances(ledger, accounts)
    chain = await _sealed(ledger)
    assert chain["first_broken"] is None and chain["verified_links"] == 26, chain

    name = ledger_db.rsplit("/", 1)[1]
    dump = await asyncio.to_thread(postgres.dump_database, name)
    roles = await asyncio.to_thread(postgres.dump_roles)
    await asyncio.to_thread(fresh_server.restore_database, name, dump, roles=roles)

    settings = ledger_settings(fresh_server.database_url(name), new_database("events"))
    async with serve(create_app, settings) as client:
        restored = Ledger(client)
        again = await _sealed(restored)
        assert again["first_broken"] is None, again
        assert again["verified_links"] == chain["verified_links"], again
        assert await _balances(restored, accounts) == before
        assert sum(before.values()) == 0
        # a retry of a request acknowledged before the backup is its first answer
        replay = await client.post(
            "/transactions",
            json={
                "postings": [
                    {"account_id": alice, "currency": CURRENCY, "amount": -105},
                    {"account_id": shops[2], "currency": CURRENCY, "amount": 105},
                ]
            },
            headers={**restored.headers, "Idempotency-Key": "backup-5"},
        )
        assert replay.status_code in (200, 201), replay.text
        assert replay.json()["id"] == keyed["backup-5"]
        assert await _balances(restored, accounts) == before
        # and the restored ledger carries on: a new transfer is sealed onto the same chain
        assert (await restored.transfer(alice, shops[0], 7)).status_code == 201
        carried = await _sealed(restored)
        assert carried["first_broken"] is None
        assert carried["verified_links"] == chain["verified_links"] + 1, carried
