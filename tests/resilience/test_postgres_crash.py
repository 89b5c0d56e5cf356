"""PostgreSQL itself dies: while 12 clients post keyed transfers through the ledger, the
postmaster and every backend (its whole process group, as a crash would) get SIGKILL, then
the server restarts on the same data folder and recovers from its WAL. The server is the
resilience suite's durable one (fsync, synchronous commit and full page writes on): an
acknowledged commit has reached the disk, so crash recovery must bring it back.

Clients retry each key until it is answered, with the same idempotency key. Read back
from the database afterwards, counted against the acknowledged ids: every acknowledged
transfer is there exactly once under its acknowledged id, no refused one was written,
every transaction and currency sums to zero, balances equal their postings. Figures go
to ``bench/results/resilience.json`` under ``postgres_sigkill``."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from deploy.local.postgres import LocalPostgres
from tests.support.crash_ledger import (
    HEADERS,
    Ledger,
    assert_consistent,
    read_back,
    record_figures,
    setup_accounts,
    transfer,
)

pytestmark = pytest.mark.slow

CLIENTS = 12
LOAD_BEFORE_KILL_S = 2.0
DOWN_S = 1.0  # clients meet a dead server for this long before the restart starts
ACKS_AFTER_RECOVERY = 100
GIVE_UP_S = 120.0  # a key unanswered this long after its first send fails the test


@dataclass
class Seen:
    """What clients saw, per idempotency key and in total."""

    answered: dict[str, tuple[int, str | None]] = field(default_factory=dict)
    first_sent: dict[str, float] = field(default_factory=dict)
    answered_at: dict[str, float] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)  # 0: no HTTP answer
    transport_errors: Counter[str] = field(default_factory=Counter)  # what the 0s were
    requests: int = 0
    retried: int = 0
    pending: int = 0

    def acknowledged_sent_after(self, instant: float) -> list[float]:
        return sorted(
            self.answered_at[k]
            for k, (status, _) in self.answered.items()
            if status < 300 and self.first_sent[k] > instant
        )


async def client_loop(
    n: int, url: str, members: list[str], seen: Seen, stop: asyncio.Event
) -> None:
    """Post transfers one after the other; each key is sent again until the ledger
    answers it (anything but a 5xx or a broken connection)."""
    rng = random.Random(n)
    async with httpx.AsyncClient(base_url=url, headers=HEADERS, timeout=10) as client:
        i = 0
        while not stop.is_set():
            key, body = f"c{n}-{i}", transfer(members, rng)
            i += 1
            seen.first_sent[key] = time.monotonic()
            while True:
                seen.requests += 1
                seen.pending += 1
                try:
                    r = await client.post(
                        "/transactions", json=body, headers={"Idempotency-Key": key}
                    )
                    status = r.status_code
                except httpx.HTTPError as exc:
                    status = 0
                    seen.transport_errors[type(exc).__name__] += 1
                finally:
                    seen.pending -= 1
                seen.statuses[status] += 1
                if 0 < status < 500:
                    # 409 insufficient-funds is the only refusal these bodies can meet
                    assert status in (200, 201) or r.json()["code"] == "insufficient-funds"
                    seen.answered[key] = (status, r.json()["id"] if status < 300 else None)
                    seen.answered_at[key] = time.monotonic()
                    break
                assert time.monotonic() - seen.first_sent[key] < GIVE_UP_S, f"{key} unanswered"
                seen.retried += 1
                await asyncio.sleep(0.1)


async def test_postgres_sigkilled_under_load_keeps_every_acknowledged_transfer_once(
    postgres: LocalPostgres, ledger: Ledger, engine_for: Callable[[str], AsyncEngine]
) -> None:
    async with httpx.AsyncClient(base_url=ledger.url, headers=HEADERS, timeout=30) as client:
        members = await setup_accounts(client)
    seen = Seen()
    stop = asyncio.Event()
    load = asyncio.gather(
        *(client_loop(n, ledger.url, members, seen, stop) for n in range(CLIENTS))
    )
    await asyncio.sleep(LOAD_BEFORE_KILL_S)
    for _ in range(500):  # kill while requests wait for their commit
        if seen.pending >= CLIENTS // 2:
            break
        await asyncio.sleep(0.005)
    acknowledged_before = sum(1 for s, _ in seen.answered.values() if s < 300)
    killed_at = time.monotonic()
    await asyncio.to_thread(postgres.kill)
    assert postgres.postmaster_pid() is None
    await asyncio.sleep(DOWN_S)
    restart_at = time.monotonic()
    await asyncio.to_thread(postgres.start)  # crash recovery happens in here
    ready_at = time.monotonic()
    deadline = ready_at + 90
    while len(seen.acknowledged_sent_after(killed_at)) < ACKS_AFTER_RECOVERY:
        assert time.monotonic() < deadline, "the ledger did not recover after PostgreSQL"
        await asyncio.sleep(0.1)
    stop.set()
    await load

    # requests whose first send started before the kill and were answered only after it
    in_flight = sorted(k for k, t in seen.first_sent.items() if t < killed_at < seen.answered_at[k])
    assert in_flight, "the kill landed while no request was in flight"
    assert acknowledged_before > 50
    found = await read_back(engine_for(ledger.env["PROXIMA_DATABASE_URL"]), seen.answered)
    # the server's log shows it went through crash recovery, not a clean start
    log = (postgres.root / "server.log").read_text(errors="replace")
    assert "was interrupted" in log or "not properly shut down" in log, log[-2000:]
    # a dead database is a 503 to clients, never a 500, and every request gets an answer
    # (the connection stays open: a 503 followed by a closed connection made clients
    # retrying on it meet "connection closed" instead)
    assert {s for s in seen.statuses if s >= 500} <= {503}, seen.statuses
    assert seen.statuses[0] == 0, seen.transport_errors

    first_ack = seen.acknowledged_sent_after(killed_at)[0]
    record_figures(
        "postgres_sigkill",
        {
            "postgres": "durable: fsync, synchronous_commit, full_page_writes on",
            "clients": CLIENTS,
            "requests": seen.requests,
            "acknowledged": sum(1 for s, _ in seen.answered.values() if s < 300),
            "refused_409": sum(1 for s, _ in seen.answered.values() if s == 409),
            "retried": seen.retried,
            "in_flight_at_kill": len(in_flight),
            "lost": len(found.lost),
            "duplicated": len(found.duplicated),
            "status_counts": {str(k): v for k, v in sorted(seen.statuses.items())},
            "transport_errors": dict(seen.transport_errors),
            "recovery_s": {
                "postgres_restart_with_crash_recovery": round(ready_at - restart_at, 2),
                "kill_to_first_ack_sent_after_kill": round(first_ack - killed_at, 2),
                "restart_ready_to_first_ack": round(first_ack - ready_at, 2),
            },
            "down_before_restart_s": DOWN_S,
        },
    )
    assert_consistent(found)
