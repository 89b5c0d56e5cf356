"""The ledger is killed with SIGKILL in the middle of concurrent transfers, then restarted:
every acknowledged transaction is there exactly once, each unacknowledged request retried
with its idempotency key lands exactly once, every currency sums to zero, each balance row
equals the sum of its postings (and the last ``balance_after``), and no bound is crossed."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.crash_ledger import (
    HEADERS,
    Ledger,
    assert_consistent,
    read_back,
    setup_accounts,
    transfer,
)

pytestmark = pytest.mark.slow

CLIENTS = 12
LOAD_BEFORE_KILL_S = 2.0


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
    engine = engine_for(ledger.env["PROXIMA_DATABASE_URL"])
    assert_consistent(await read_back(engine, outcome.answered))
