"""PostgreSQL dies under funding's committee decisions: files wait on committee agendas
(submitted, instructed, voted for), 12 clients record the approvals one after the other,
and the postmaster with every backend gets SIGKILL while decisions wait for their commit;
the server then restarts on the same data folder and recovers from its WAL. The server
is the resilience suite's durable one (fsync, synchronous commit, full page writes on).

A decision is not keyed like a transfer: a client that met a dead server sends the same
decision again (same file, same deliberation number), and a 409 to that retry means the
first attempt committed before the answer was lost. Read back from funding's database
afterwards, counted against the acknowledged decision ids: every acknowledged decision
is there under its id, no file is decided twice, every file answered 409 on a retry is
decided exactly once, and each envelope's commitment equals the sum of its approvals (the
decision and the commitment are one transaction). Figures go to
``bench/results/resilience.json`` under ``postgres_sigkill_funding``."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from deploy.local.postgres import LocalPostgres
from tests.integration.funding.conftest import COMMITTEE, Funding, ok
from tests.support.crash_ledger import Ledger, record_figures
from tests.support.ports import free_port
from tests.support.tokens import jwks_json

pytestmark = pytest.mark.slow

CLIENTS = 12
FILES = 144  # enough decisions to run through the kill and the recovery (~100 used)
PER_SESSION = 24  # files on one committee's agenda
SETUP_CLIENTS = 8
ACKS_BEFORE_KILL = 40
ACKS_AFTER_RECOVERY = 30
DOWN_S = 1.0
GIVE_UP_S = 120.0
AMOUNT = 10_000
MEMBERS = ("m1", "m2", "m3")


@pytest.fixture
def funding_server(
    migrated_database: Callable[[str], str], new_database: Callable[[str], str], tmp_path: Path
) -> Iterator[Ledger]:
    """Funding under uvicorn on the module's durable server, killable and restartable."""
    env = {
        **os.environ,
        "PROXIMA_ENV": "development",
        "PROXIMA_DATABASE_URL": migrated_database("funding"),
        "PROXIMA_EVENTS_DATABASE_URL": new_database("events"),
        "PROXIMA_JWKS_JSON": jwks_json(),
        "PROXIMA_DOCUMENTS_DIR": str(tmp_path / "documents"),
        "PROXIMA_LOG_LEVEL": "WARNING",
    }
    server = Ledger(env=env, port=free_port(), app="services.funding.app:create_app")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Seen:
    """What the deciding clients saw, per file."""

    acknowledged: dict[str, str] = field(default_factory=dict)  # file → decision id
    conflict_on_retry: dict[str, str] = field(default_factory=dict)  # file → the 409's code
    first_sent: dict[str, float] = field(default_factory=dict)
    answered_at: dict[str, float] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)  # 0: no HTTP answer
    transport_errors: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    retried: int = 0
    pending: int = 0

    def acknowledged_sent_after(self, instant: float) -> list[float]:
        return sorted(
            self.answered_at[f] for f in self.acknowledged if self.first_sent[f] > instant
        )


async def prepare(funding: Funding) -> list[tuple[str, str, str]]:
    """(session, file, deliberation number) of every file waiting for its decision."""
    await funding.programme()
    await funding.envelope(ap=10**12, cp=10**12)
    await funding.accompanist()
    queue = list(range(FILES))
    files: dict[int, str] = {}

    async def file_one() -> None:
        while queue:
            n = queue.pop()
            files[n] = await funding.to_committee(amount=AMOUNT, title=f"Dossier {n}")

    await asyncio.gather(*(file_one() for _ in range(SETUP_CLIENTS)))
    waiting = []
    for start in range(0, FILES, PER_SESSION):
        session = await funding.session()
        batch = [files[n] for n in range(start, min(FILES, start + PER_SESSION))]
        for file_id in batch:
            await funding.on_agenda(session, file_id)
        await funding.open(session)
        for file_id in batch:
            for member in MEMBERS:
                ok(await funding.vote(session, file_id, member, "for"), 204)
            waiting.append((session, file_id, f"CP-CRASH-{len(waiting):04d}"))
    return waiting


async def decide_loop(
    url: str, waiting: list[tuple[str, str, str]], seen: Seen, stop: asyncio.Event
) -> None:
    """Record decisions one after the other; each is sent again until funding answers it
    (anything but a 5xx or a broken connection)."""
    async with httpx.AsyncClient(base_url=url, headers=COMMITTEE, timeout=10) as client:
        while waiting and not stop.is_set():
            session, file_id, deliberation = waiting.pop()
            body = {
                "application_id": file_id,
                "outcome": "approved",
                "amount_cents": AMOUNT,
                "deliberation_number": deliberation,
            }
            seen.first_sent[file_id] = time.monotonic()
            attempt = 0
            while True:
                attempt += 1
                seen.requests += 1
                seen.pending += 1
                try:
                    r = await client.post(f"/committee-sessions/{session}/decisions", json=body)
                    status = r.status_code
                except httpx.HTTPError as exc:
                    status = 0
                    seen.transport_errors[type(exc).__name__] += 1
                finally:
                    seen.pending -= 1
                seen.statuses[status] += 1
                if status == 201:
                    seen.acknowledged[file_id] = r.json()["id"]
                    seen.answered_at[file_id] = time.monotonic()
                    break
                if 0 < status < 500:
                    # only a retry may meet a refusal: its first attempt committed
                    assert status == 409 and attempt > 1, (file_id, status, r.text)
                    seen.conflict_on_retry[file_id] = r.json()["code"]
                    seen.answered_at[file_id] = time.monotonic()
                    break
                assert time.monotonic() - seen.first_sent[file_id] < GIVE_UP_S, file_id
                seen.retried += 1
                await asyncio.sleep(0.1)


async def read_back(engine: AsyncEngine) -> tuple[dict[str, list[str]], list[tuple[str, int, int]]]:
    """Decisions per file, and (envelope, committed, sum of its approvals) per envelope."""
    async with engine.connect() as conn:
        decided: dict[str, list[str]] = {}
        for row in await conn.execute(
            text("SELECT application_id::text, id::text FROM committee_decisions")
        ):
            decided.setdefault(row[0], []).append(row[1])
        envelopes = [
            (str(row[0]), int(row[1]), int(row[2]))
            for row in await conn.execute(
                text(
                    "SELECT e.code, e.committed_cents, coalesce(sum(d.amount_cents), 0) "
                    "FROM envelopes e "
                    "LEFT JOIN applications a ON a.envelope_id = e.id "
                    "LEFT JOIN committee_decisions d ON d.application_id = a.id "
                    "  AND d.outcome = 'approved' "
                    "GROUP BY e.code, e.committed_cents"
                )
            )
        ]
    return decided, envelopes


async def test_postgres_sigkilled_under_committee_decisions_keeps_each_decision_once(
    postgres: LocalPostgres, funding_server: Ledger, engine_for: Callable[[str], AsyncEngine]
) -> None:
    async with httpx.AsyncClient(base_url=funding_server.url, timeout=30) as client:
        waiting = await prepare(Funding(client))
    seen = Seen()
    stop = asyncio.Event()
    load = asyncio.gather(
        *(decide_loop(funding_server.url, waiting, seen, stop) for _ in range(CLIENTS))
    )
    deadline = time.monotonic() + 60
    while len(seen.acknowledged) < ACKS_BEFORE_KILL or seen.pending < CLIENTS // 2:
        assert time.monotonic() < deadline, "no steady load of decisions before the kill"
        await asyncio.sleep(0.005)
    acknowledged_before = len(seen.acknowledged)
    killed_at = time.monotonic()
    await asyncio.to_thread(postgres.kill)
    assert postgres.postmaster_pid() is None
    await asyncio.sleep(DOWN_S)
    restart_at = time.monotonic()
    await asyncio.to_thread(postgres.start)
    ready_at = time.monotonic()
    deadline = ready_at + 90
    while len(seen.acknowledged_sent_after(killed_at)) < ACKS_AFTER_RECOVERY:
        assert time.monotonic() < deadline, "funding did not recover after PostgreSQL"
        assert waiting or seen.pending, "the files ran out before the recovery was measured"
        await asyncio.sleep(0.1)
    stop.set()
    await load

    in_flight = sorted(
        f for f, t in seen.first_sent.items() if t < killed_at < seen.answered_at.get(f, 0)
    )
    assert in_flight, "the kill landed while no decision was in flight"
    decided, envelopes = await read_back(engine_for(funding_server.env["PROXIMA_DATABASE_URL"]))
    lost = sorted(f for f in seen.acknowledged if f not in decided)
    wrong_id = sorted(f for f, d in seen.acknowledged.items() if f in decided and decided[f] != [d])
    duplicated = sorted(f for f, ids in decided.items() if len(ids) > 1)
    conflict_not_decided = sorted(f for f in seen.conflict_on_retry if len(decided.get(f, [])) != 1)
    log = (postgres.root / "server.log").read_text(errors="replace")
    assert "was interrupted" in log or "not properly shut down" in log, log[-2000:]
    assert {s for s in seen.statuses if s >= 500} <= {503}, seen.statuses
    assert seen.statuses[0] == 0, seen.transport_errors

    first_ack = seen.acknowledged_sent_after(killed_at)[0]
    record_figures(
        "postgres_sigkill_funding",
        {
            "postgres": "durable: fsync, synchronous_commit, full_page_writes on",
            "what": "committee decisions (approval + envelope commitment)",
            "clients": CLIENTS,
            "requests": seen.requests,
            "acknowledged": len(seen.acknowledged),
            "acknowledged_before_kill": acknowledged_before,
            "committed_answer_lost_409_on_retry": len(seen.conflict_on_retry),
            "retried": seen.retried,
            "in_flight_at_kill": len(in_flight),
            "lost": len(lost),
            "duplicated": len(duplicated),
            "status_counts": {str(k): v for k, v in sorted(seen.statuses.items())},
            "recovery_s": {
                "postgres_restart_with_crash_recovery": round(ready_at - restart_at, 2),
                "kill_to_first_ack_sent_after_kill": round(first_ack - killed_at, 2),
                "restart_ready_to_first_ack": round(first_ack - ready_at, 2),
            },
            "down_before_restart_s": DOWN_S,
        },
    )
    assert lost == [], f"acknowledged and missing: {lost}"
    assert wrong_id == [], f"another decision than acknowledged: {wrong_id}"
    assert duplicated == [], f"decided twice: {duplicated}"
    assert conflict_not_decided == [], conflict_not_decided
    assert [e for e in envelopes if e[1] != e[2]] == [], envelopes
