"""The ledger is killed with SIGKILL in the middle of concurrent transfers, then restarted:
every acknowledged transaction is there exactly once, each unacknowledged request retried
with its idempotency key lands exactly once, every currency sums to zero, each balance row
equals the sum of its postings (and the last ``balance_after``), and no bound is crossed."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from deploy.local.postgres import REPO
from tests.integration.ledger.ledger_support import operator
from tests.support.ports import free_port
from tests.support.tokens import jwks_json

pytestmark = pytest.mark.slow

CURRENCY = "CRASH"
MEMBERS = 8
FUNDING = 500
CLIENTS = 12
LOAD_BEFORE_KILL_S = 2.0


@dataclass
class Ledger:
    """A ledger under uvicorn on a fixed port, killable and restartable."""

    env: dict[str, str]
    port: int
    proc: subprocess.Popen[bytes] | None = None
    killed_at: float | None = None  # time.monotonic() just before the last SIGKILL

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "services.ledger.app:create_app",
                "--factory",
                "--port",
                str(self.port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            env=self.env,
            cwd=REPO,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "the ledger exited"
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError("the ledger did not become ready")

    def kill(self) -> None:
        assert self.proc is not None
        self.killed_at = time.monotonic()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class Outcome:
    """What clients saw: answers per idempotency key, and keys left without an answer,
    with when (time.monotonic()) each key's first send started and, if unanswered, failed."""

    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)
    answered: dict[str, tuple[int, str | None]] = field(default_factory=dict)
    unanswered: set[str] = field(default_factory=set)
    sent_at: dict[str, float] = field(default_factory=dict)
    failed_at: dict[str, float] = field(default_factory=dict)
    pending: int = 0  # sends started and not returned yet

    def in_flight_at(self, instant: float) -> list[str]:
        """Unanswered keys whose first send started before ``instant`` and failed after it."""
        return sorted(
            key for key in self.unanswered if self.sent_at[key] < instant < self.failed_at[key]
        )


@pytest.fixture
def ledger(
    migrated_database: Callable[[str], str], new_database: Callable[[str], str]
) -> Iterator[Ledger]:
    env = {
        **os.environ,
        "PROXIMA_ENV": "development",
        "PROXIMA_DATABASE_URL": migrated_database("ledger"),
        "PROXIMA_EVENTS_DATABASE_URL": new_database("events"),
        "PROXIMA_JWKS_JSON": jwks_json(),
        "PROXIMA_LOG_LEVEL": "WARNING",
    }
    server = Ledger(env=env, port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


HEADERS = operator(CURRENCY)


async def setup_accounts(client: httpx.AsyncClient) -> list[str]:
    """Members funded from the issuer: transfers between them can overdraw (and be refused)."""
    r = await client.post(
        "/currencies", json={"code": CURRENCY, "kind": "euro_backed", "operator": "t"}
    )
    assert r.status_code == 201, r.text
    r = await client.post("/accounts", json={"currency": CURRENCY, "type": "issuer"})
    issuer = r.json()["id"]
    members = []
    for _ in range(MEMBERS):
        r = await client.post("/accounts", json={"currency": CURRENCY, "type": "member"})
        members.append(r.json()["id"])
    items = [
        {
            "postings": [
                {"account_id": issuer, "currency": CURRENCY, "amount": -FUNDING},
                {"account_id": m, "currency": CURRENCY, "amount": FUNDING},
            ]
        }
        for m in members
    ]
    r = await client.post("/batches", json={"mode": "atomic", "items": items})
    assert r.status_code == 201, r.text
    return members


def transfer(members: list[str], rng: random.Random) -> dict[str, Any]:
    source, dest = rng.sample(members, 2)
    amount = rng.randint(1, 120)  # sometimes more than the payer has: refused
    return {
        "postings": [
            {"account_id": source, "currency": CURRENCY, "amount": -amount},
            {"account_id": dest, "currency": CURRENCY, "amount": amount},
        ]
    }


async def send(client: httpx.AsyncClient, outcome: Outcome, key: str) -> bool:
    """Post ``key``'s body once; True if the ledger answered (anything but a 5xx)."""
    outcome.pending += 1
    try:
        r = await client.post(
            "/transactions",
            json=outcome.bodies[key],
            headers={**HEADERS, "Idempotency-Key": key},
            timeout=10,
        )
    except httpx.HTTPError:
        return False
    finally:
        outcome.pending -= 1
    if r.status_code >= 500:
        return False
    # 409 insufficient-funds is the only refusal these bodies can meet
    assert r.status_code in (200, 201) or r.json()["code"] == "insufficient-funds", r.text
    outcome.answered[key] = (r.status_code, r.json()["id"] if r.status_code < 300 else None)
    return True


async def drive(url: str, members: list[str], outcome: Outcome, stop: asyncio.Event) -> None:
    async def client_loop(n: int) -> None:
        rng = random.Random(n)
        async with httpx.AsyncClient(base_url=url) as client:
            i = 0
            while not stop.is_set():
                key = f"c{n}-{i}"
                i += 1
                outcome.bodies[key] = transfer(members, rng)
                outcome.sent_at[key] = time.monotonic()
                if not await send(client, outcome, key):
                    outcome.failed_at[key] = time.monotonic()
                    outcome.unanswered.add(key)
                    await asyncio.sleep(0.05)

    await asyncio.gather(*(client_loop(n) for n in range(CLIENTS)))


async def retry_unanswered(url: str, outcome: Outcome) -> None:
    async with httpx.AsyncClient(base_url=url) as client:
        for key in sorted(outcome.unanswered):
            for _ in range(20):
                if await send(client, outcome, key):
                    break
                await asyncio.sleep(0.2)
            else:
                raise AssertionError(f"{key} never answered after the restart")


async def check(engine: AsyncEngine, outcome: Outcome) -> None:
    async with engine.connect() as conn:
        by_key = {
            row.idempotency_key: (row.id, row.n)
            for row in (
                await conn.execute(
                    text(
                        "SELECT idempotency_key, min(id::text) AS id, count(*) AS n "
                        "FROM transactions WHERE idempotency_key IS NOT NULL "
                        "GROUP BY idempotency_key"
                    )
                )
            ).all()
        }
        for key, (status, tx_id) in outcome.answered.items():
            if status < 300:
                assert key in by_key, f"acknowledged {key} is missing"
                assert by_key[key] == (tx_id, 1), (key, by_key[key], tx_id)
            else:
                assert key not in by_key, f"refused {key} was written"
        unbalanced = (
            await conn.execute(
                text(
                    "SELECT transaction_id, currency FROM postings "
                    "GROUP BY transaction_id, currency HAVING sum(amount) <> 0"
                )
            )
        ).all()
        assert unbalanced == []
        totals = (
            await conn.execute(text("SELECT currency, sum(amount) FROM postings GROUP BY 1"))
        ).all()
        assert all(total == 0 for _, total in totals), totals
        drift = (
            await conn.execute(
                text(
                    "SELECT b.account_id FROM account_balances b "
                    "LEFT JOIN LATERAL (SELECT coalesce(sum(amount), 0) AS total, "
                    "  (SELECT balance_after FROM postings q WHERE q.account_id = b.account_id "
                    "   ORDER BY account_seq DESC LIMIT 1) AS last "
                    "  FROM postings p WHERE p.account_id = b.account_id) s ON true "
                    "WHERE b.posted <> s.total OR b.posted <> coalesce(s.last, 0) "
                    "   OR (b.lower_bound IS NOT NULL AND b.posted - b.held < b.lower_bound) "
                    "   OR (b.upper_bound IS NOT NULL AND b.posted > b.upper_bound)"
                )
            )
        ).all()
        assert drift == []


async def test_killed_mid_load_the_ledger_keeps_every_acknowledged_transfer_once(
    ledger: Ledger, engine_for: Callable[[str], AsyncEngine]
) -> None:
    async with httpx.AsyncClient(base_url=ledger.url, headers=HEADERS, timeout=30) as client:
        members = await setup_accounts(client)
    outcome = Outcome()
    stop = asyncio.Event()
    load = asyncio.create_task(drive(ledger.url, members, outcome, stop))
    await asyncio.sleep(LOAD_BEFORE_KILL_S)
    # Kill while requests wait for their answer: with group commit the clients' requests
    # are answered together, and a busy machine can stretch the moment between a group's
    # answers and the next sends into the kill's instant.
    for _ in range(500):
        if outcome.pending >= CLIENTS // 2:
            break
        await asyncio.sleep(0.005)
    await asyncio.to_thread(ledger.kill)
    await asyncio.sleep(0.3)  # requests in flight fail; clients keep trying and fail too
    stop.set()
    await load
    await asyncio.to_thread(ledger.start)
    await retry_unanswered(ledger.url, outcome)
    assert outcome.unanswered, "the kill landed while no request was in flight"
    # Keys sent after the kill fail with connection-refused and are unanswered too: only a
    # send that started before the SIGKILL and failed after it was really in flight.
    assert ledger.killed_at is not None
    in_flight = outcome.in_flight_at(ledger.killed_at)
    assert in_flight, "the kill landed while no request was in flight"
    assert sum(1 for s, _ in outcome.answered.values() if s < 300) > 50
    await check(engine_for(ledger.env["PROXIMA_DATABASE_URL"]), outcome)
