"""What the crash tests share: a ledger under uvicorn that can be SIGKILLed and restarted,
members funded from an issuer, random keyed transfers between them, the read-back of the
database against what clients saw acknowledged, and the figures file.

The read-back is the point of these tests, so it counts from the database itself, keyed
by idempotency key: an acknowledged transfer missing is lost, one present twice is
duplicated, and a refused one present was written although the client was told no."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from deploy.local.postgres import REPO
from tests.integration.ledger.ledger_support import operator

CURRENCY = "CRASH"
MEMBERS = 8
FUNDING = 500
HEADERS = operator(CURRENCY)
RESULTS = REPO / "bench" / "results" / "resilience.json"


@dataclass
class Ledger:
    """A ledger under uvicorn on a fixed port, killable and restartable (another service
    with ``app``: the funding crash test runs funding this way)."""

    env: dict[str, str]
    port: int
    proc: subprocess.Popen[bytes] | None = None
    killed_at: float | None = None  # time.monotonic() just before the last SIGKILL
    app: str = "services.ledger.app:create_app"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                self.app,
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
            assert self.proc.poll() is None, f"{self.app} exited"
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{self.app} did not become ready")

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


@dataclass
class ReadBack:
    """The database against the clients' answers, counted by idempotency key."""

    lost: list[str]  # acknowledged, not in the database
    duplicated: list[str]  # in the database more than once
    wrong_id: list[str]  # present once, under another id than the one acknowledged
    refused_written: list[str]  # answered 409, yet written
    unbalanced: list[Any]  # transactions whose postings do not sum to zero
    totals: list[Any]  # currencies whose postings do not sum to zero
    drift: list[Any]  # balance rows that disagree with their postings or cross a bound


async def read_back(engine: AsyncEngine, answered: dict[str, tuple[int, str | None]]) -> ReadBack:
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
        acknowledged = {k: tx for k, (status, tx) in answered.items() if status < 300}
        refused = [k for k, (status, _) in answered.items() if status >= 300]
        unbalanced = (
            await conn.execute(
                text(
                    "SELECT transaction_id, currency FROM postings "
                    "GROUP BY transaction_id, currency HAVING sum(amount) <> 0"
                )
            )
        ).all()
        totals = (
            await conn.execute(
                text(
                    "SELECT currency, sum(amount) FROM postings GROUP BY 1 HAVING sum(amount) <> 0"
                )
            )
        ).all()
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
    return ReadBack(
        lost=sorted(k for k in acknowledged if k not in by_key),
        duplicated=sorted(k for k, (_, n) in by_key.items() if n > 1),
        wrong_id=sorted(k for k, tx in acknowledged.items() if k in by_key and by_key[k][0] != tx),
        refused_written=sorted(k for k in refused if k in by_key),
        unbalanced=list(unbalanced),
        totals=list(totals),
        drift=list(drift),
    )


def assert_consistent(found: ReadBack) -> None:
    assert found.lost == [], f"acknowledged and missing: {found.lost}"
    assert found.duplicated == [], f"written twice: {found.duplicated}"
    assert found.wrong_id == [], f"another id than acknowledged: {found.wrong_id}"
    assert found.refused_written == [], f"refused, yet written: {found.refused_written}"
    assert found.unbalanced == [] and found.totals == []
    assert found.drift == []


def record_figures(section: str | None, figures: dict[str, Any]) -> None:
    """Merge ``figures`` into ``bench/results/resilience.json``: at the top level for the
    regional loop (``section`` None, the file's original shape), else under ``section``;
    each test rewrites only its own part, stamped with the run's time."""
    try:
        current = json.loads(RESULTS.read_text())
    except (OSError, ValueError):
        current = {}
    stamped = {**figures, "run_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    if section is None:
        kept = {k: v for k, v in current.items() if isinstance(v, dict) and "run_at" in v}
        current = {**stamped, **kept}
    else:
        current[section] = stamped
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(current, indent=2) + "\n")
    print(json.dumps({section or "regional_loop": stamped}))
