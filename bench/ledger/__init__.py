"""``make bench-ledger``: ledger API throughput against ``pgbench`` TPC-B, on one embedded
PostgreSQL server, in one run.

1. ``pgbench`` TPC-B (scale 10, ``CLIENTS`` clients, ``SECONDS`` s, ``-M prepared``: the
   protocol the ledger's asyncpg connections use) gives the baseline tps.
2. The ledger runs under uvicorn (``BENCH_LEDGER_WORKERS`` processes, outbox relay on,
   access log off) against a migrated database on the same server, with ``ACCOUNTS``
   (10,000) funded members, each mandating the member wallet app (``WALLET``) to debit it.
   The load posts as that app, not as the operator. ``wrk`` (C, epoll, keep-alive; the Lua
   in ``load.lua`` makes bodies and idempotency keys) keeps ``CLIENTS`` connections busy
   with single transfers, payers uniform and payees by Zipf's law (s = 1): the sustained
   rate, the CPU per request of the ledger and of PostgreSQL, the group commit sizes it ran
   at; then the same over the ``HOT`` (200) first accounts, uniform; then an open-loop
   run at half the sustained rate (`bench.ledger.openloop`: constant arrivals, latency
   from each request's due instant) for p50, p99 and p99.9; then 1,000-transfer atomic
   batches, then balance reads (as the operator). Before each phase the ledger is left to
   go idle (`settle`, whose duration is the relay's and sealer's lag), so no phase pays for
   the one before's relaying and sealing. Every non-2xx answer and transport error counts.
3. With the ledger stopped, two floors under its rates: `bench.ledger.floor` (our web
   stack doing one database round trip per request, under the same wrk load) and
   `bench.ledger.db_floor` (pgbench running the ledger's own posting statements, single and
   in batches, with no Python in front), and `bench.ledger.db_components` (the same
   single-transfer SQL with each component removed in turn, on scratch copies of the
   database: microseconds per transfer per component).
4. With the ledger stopped, one account gets 1,000,000 postings (set-based ``INSERT …
   SELECT generate_series`` through the real triggers, in balanced two-leg transactions);
   then a ledger without background tasks answers balance-at-instant reads at random
   instants of that history, one connection, timed by wrk.
5. Figures and ratios go to stdout and ``bench/results/ledger.json``: first the keys the
   targets are about (``ratio_single``, ``ratio_batch``, ``single_p99_ms``,
   ``sustained_single_per_s``, ``errors``, ``balance_reads_per_s``, ``balance_at_ms``),
   then how they were measured (load average, accounts, poster) and the breakdowns.

On a small machine wrk, the server and PostgreSQL share the cores: the ratios are the
figures to compare, not the absolute rates.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from bench.ledger import db_components, db_floor, stages
from bench.ledger.openloop import open_loop
from bench.pgbench import pgbench_tps
from bench.proc_cpu import tree_cpu_s as _cpu_s  # pid and its uvicorn workers
from deploy.local.postgres import REPO, LocalPostgres
from shared.auth import AUDIENCE, ISSUER
from shared.migrate import upgrade

CLIENTS = int(os.environ.get("BENCH_LEDGER_CLIENTS", "8"))
SECONDS = float(os.environ.get("BENCH_LEDGER_SECONDS", "10"))
# 10,000 accounts with Zipf payees: the measured case; the first HOT of them, drawn
# uniformly, the hot-account case reported beside it.
ACCOUNTS = int(os.environ.get("BENCH_LEDGER_ACCOUNTS", "10000"))
HOT = 200
WALLET = "wallet-app"
BATCH = 1_000
ROOT = REPO / ".cache" / "bench" / "ledger"
RESULTS = REPO / "bench" / "results" / "ledger.json"
CURRENCY = "BENCH"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def signing_material() -> tuple[str, str, str]:
    """(JWKS for the service, the operator's token with every ledger scope on the bench
    currency, the member wallet app's token: ``ledger:post ledger:read``, debiting only
    under the mandates each member gave it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid="bench", use="sig", alg="ES256")
    now = int(time.time())

    def token(sub: str, scope: str) -> str:
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": sub,
            "iat": now,
            "exp": now + 3 * 3600,
            "scope": scope,
            "tenants": {"currencies": [CURRENCY]},
        }
        return jwt.encode(claims, key, algorithm="ES256", headers={"kid": "bench"})

    operator = token("bench", "ledger:admin ledger:post ledger:read")
    return json.dumps({"keys": [jwk]}), operator, token(WALLET, "ledger:post ledger:read")


def pgbench_baseline(server: LocalPostgres) -> float:
    """TPC-B at scale 10 with the bench's clients: the baseline every ratio divides by."""
    server.create_database("pgbench", recreate=True)
    init = [server.bin("pgbench"), "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres"]
    subprocess.run([*init, "-i", "-q", "-s", "10", "pgbench"], check=True, capture_output=True)
    clients = ("-c", str(CLIENTS), "-j", str(min(CLIENTS, 4)), "-T", str(int(SECONDS)))
    # Prepared statements, the protocol the ledger's asyncpg connections use.
    clients += ("-M", "prepared")
    return pgbench_tps(server, "pgbench", *clients)


# --- load generator: wrk ------------------------------------------------------------------

LUA = Path(__file__).with_name("load.lua")


def lua_table(value: Any) -> str:
    """A Python value as a Lua literal (strings, numbers, lists, flat dicts)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {lua_table(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "{" + ", ".join(lua_table(v) for v in value) + "}"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


def wrk(port: int, mode: str, *, connections: int, seconds: float, **params: Any) -> dict[str, Any]:
    """Run wrk for ``seconds`` with ``connections`` in ``mode``; its figures, parsed."""
    tool = shutil.which("wrk")
    if tool is None:
        raise RuntimeError("wrk is missing: run deploy/local/ensure-tools.sh")
    path = ROOT / f"bench-params-{mode}.lua"
    path.write_text(
        "return " + lua_table({"mode": mode, "seed": random.randrange(1, 2**30), **params}) + "\n"
    )
    out = subprocess.run(
        [
            tool,
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "30s",
            "-s",
            str(LUA),
            f"http://127.0.0.1:{port}",
            "--",
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    match = re.search(r"WRK_JSON (\{.*\})", out)
    assert match, out
    raw = json.loads(match.group(1))
    elapsed = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "errors": raw["status_errors"] + raw["socket_errors"],
        "per_s": (raw["requests"] - raw["status_errors"]) / elapsed,
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
    }


# --- an account with a long history ---------------------------------------------------------

HISTORY = int(os.environ.get("BENCH_LEDGER_HISTORY", "1000000"))
HISTORY_CHUNK = int(os.environ.get("BENCH_LEDGER_HISTORY_CHUNK", "2000"))
HISTORY_SQL = """
WITH tx AS (
    INSERT INTO transactions (id, kind, effective_date, client_id)
    SELECT gen_random_uuid(), 'transfer', current_date, 'bench-history'
    FROM generate_series(1, :n)
    RETURNING id, seq
), legs AS (
    SELECT id, leg,
           CASE WHEN leg = 0 THEN CAST(:hot AS uuid)
                ELSE (CAST(:others AS uuid[]))[1 + seq % :count] END AS account_id,
           CASE WHEN leg = 0 THEN -1 ELSE 1 END * (1 + seq % 7) * (1 - 2 * (seq % 2)) AS amount
    FROM tx CROSS JOIN (VALUES (0), (1)) AS legs (leg)
), authorities AS (
    INSERT INTO posting_authorities (transaction_id, account_id, basis, principal, amount)
    SELECT id, account_id, 'operator', 'bench-history', -amount FROM legs WHERE amount < 0
)
INSERT INTO postings (transaction_id, account_id, currency, amount)
SELECT id, account_id, :currency, amount FROM legs
ORDER BY id, leg
"""


def build_history(url: str, hot: str, others: list[str]) -> tuple[float, float, float]:
    """Give ``hot`` ``HISTORY`` postings, each in a balanced two-leg transaction written
    through the real triggers, in chunks (one long transaction would make PostgreSQL walk a
    million versions of the hot balance row); returns (seconds, first, last instant)."""
    import asyncio as aio

    from sqlalchemy import text

    from shared.db import make_engine

    async def run() -> tuple[float, float, float]:
        engine = make_engine(url, pool_size=1, max_overflow=0)
        started = time.perf_counter()
        try:
            for done in range(0, HISTORY, HISTORY_CHUNK):
                async with engine.begin() as conn:
                    await conn.execute(
                        text(HISTORY_SQL),
                        {
                            "n": min(HISTORY_CHUNK, HISTORY - done),
                            "hot": hot,
                            "others": others,
                            "count": len(others),
                            "currency": CURRENCY,
                        },
                    )
            async with engine.connect() as conn:
                row = (
                    # The window of the history alone: the hot account also took part in
                    # the load phases, minutes before, with a few thousand postings.
                    await conn.execute(
                        text(
                            "SELECT extract(epoch FROM min(p.posted_at)) AS a, "
                            "extract(epoch FROM max(p.posted_at)) AS b, count(*) AS n "
                            "FROM postings p JOIN transactions t ON t.id = p.transaction_id "
                            "WHERE p.account_id = :hot AND t.client_id = 'bench-history'"
                        ),
                        {"hot": hot},
                    )
                ).one()
            assert row.n >= HISTORY, row
            return time.perf_counter() - started, float(row.a), float(row.b)
        finally:
            await engine.dispose()

    return aio.run(run())


# --- the run -----------------------------------------------------------------------------------


KIND = os.environ.get("BENCH_LEDGER_KIND", "euro_backed")
FUNDING = 10**12


def prepare_ledger(base: str, token: str) -> list[str]:
    """``ACCOUNTS`` member accounts of one currency, each funded from its issuer and each
    mandating the member wallet app (``WALLET``) to debit it, as a member does when it
    installs the app.

    A euro-backed currency by default, the common case: members never go negative. A
    ``mutual_credit`` one (``BENCH_LEDGER_KIND``) also exercises the per-currency debt row
    that every negative balance change updates.
    """
    import asyncio as aio

    headers = {"Authorization": f"Bearer {token}"}
    rules = {"credit_limit": {"default_limit": 10**9, "max_limit": 10**9}}
    mandate = {
        "grantee": WALLET,
        "may_read": True,
        "max_per_payment": 10**9,
        "max_per_period": 10**15,
        "period": "year",
        "expires_at": "2099-01-01T00:00:00Z",
    }

    async def run() -> list[str]:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as client:
            r = await client.post(
                "/currencies",
                json={
                    "code": CURRENCY,
                    "kind": KIND,
                    "operator": "bench",
                    "rules": rules if KIND == "mutual_credit" else {},
                },
            )
            r.raise_for_status()
            issuer = await client.post("/accounts", json={"currency": CURRENCY, "type": "issuer"})
            issuer.raise_for_status()
            gate = aio.Semaphore(16)

            async def member() -> str:
                async with gate:
                    r = await client.post(
                        "/accounts", json={"currency": CURRENCY, "type": "member"}
                    )
                    r.raise_for_status()
                    account = str(r.json()["id"])
                    m = await client.post(f"/accounts/{account}/mandates", json=mandate)
                    m.raise_for_status()
                    return account

            members = list(await aio.gather(*(member() for _ in range(ACCOUNTS))))
            for start in range(0, len(members), 1000):
                funding = [
                    {
                        "postings": [
                            {
                                "account_id": issuer.json()["id"],
                                "currency": CURRENCY,
                                "amount": -FUNDING,
                            },
                            {"account_id": m, "currency": CURRENCY, "amount": FUNDING},
                        ]
                    }
                    for m in members[start : start + 1000]
                ]
                r = await client.post("/batches", json={"mode": "atomic", "items": funding})
                r.raise_for_status()
            return members

    return aio.run(run())


def wait_ready(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the ledger exited"
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the ledger did not become ready")


# Two uvicorn workers by default: measured with bench/ledger/cpu.py on this 2-core machine
# (2026-11-26), the same CPU per request and more of it in parallel: balance reads 4,305/s
# against 2,888/s with one worker (one process saturated one core), single transfers 652/s
# against 580/s, batches 5.2/s against 4.5/s.
WORKERS = int(os.environ.get("BENCH_LEDGER_WORKERS", "2"))
# The app factory uvicorn runs; another one (a variant under study) can be named here.
APP = os.environ.get("BENCH_LEDGER_APP", "services.ledger.app:create_app")


def start_ledger(
    server: LocalPostgres, jwks: str, port: int, *, background: bool = True, app: str = APP
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PROXIMA_ENV": "development",
        "PROXIMA_DATABASE_URL": server.database_url("bench_ledger"),
        "PROXIMA_EVENTS_DATABASE_URL": server.database_url("bench_events"),
        "PROXIMA_JWKS_JSON": jwks,
        "PROXIMA_LOG_LEVEL": "WARNING",
        "PROXIMA_RUN_BACKGROUND_TASKS": "true" if background else "false",
        # the bench scrapes the group commit histogram from this machine
        "PROXIMA_METRICS_ALLOWED_NETWORKS": '["127.0.0.1/32"]',
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--factory",
            "--port",
            str(port),
            "--workers",
            str(WORKERS),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=REPO,
    )


def stop_ledger(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def postmaster_pid(server: LocalPostgres) -> int:
    return int((server.pgdata / "postmaster.pid").read_text().split()[0])


def settle(*pids: int, limit_s: float = 180) -> float:
    """Wait until the ledger and PostgreSQL (``pids`` and their direct children: uvicorn
    workers; backends, autovacuum workers) are idle, under 5 % of a core over 2 s (the
    audit sealer wakes every second), so the next phase does not pay for the previous
    one's deferred work: the outbox relay publishing, the audit sealer hashing, autovacuum
    visiting the rows a phase wrote. Returns how long the work went on (the final idle
    window not counted)."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        before = sum(_cpu_s(pid) for pid in pids)
        time.sleep(2)
        if sum(_cpu_s(pid) for pid in pids) - before < 0.1:
            return max(0.0, time.monotonic() - started - 2)
    return time.monotonic() - started


def half_rate_delay_ms(port: int, peak: dict[str, Any], common: dict[str, Any]) -> float:
    """The mean think time that makes CLIENTS connections ask for half of ``peak``'s rate
    (`bench.ledger.cpu`'s paced wrk phase).

    A connection's cycle is its think time plus its response time, and the response time
    at half the rate is shorter than at the peak; so a short probe at a first guess
    measures it, and the think time is set from that. What the run then achieves is
    reported next to its p99, not assumed.
    """
    cycle_ms = 1000 * CLIENTS / (peak["per_s"] / 2)
    guess = max(0.0, cycle_ms - peak["p50_ms"])
    probe = wrk(port, "single", connections=CLIENTS, seconds=4, delay_ms=guess, **common)
    response_ms = 1000 * CLIENTS / probe["per_s"] - guess
    return max(0.0, cycle_ms - response_ms)


def group_sizes(port: int, scrapes: int = 12) -> list[dict[str, Any]]:
    """The group commit histogram of each uvicorn worker (``/metrics`` answers from
    whichever worker takes the connection: a few scrapes see each of them), each as its
    group count, request count and cumulative buckets."""
    seen: dict[tuple[float, float], dict[str, Any]] = {}
    name = "proxima_ledger_group_commit_size"
    for _ in range(scrapes):
        with httpx.Client(timeout=10) as client:
            text = client.get(f"http://127.0.0.1:{port}/metrics").text
        buckets: dict[str, float] = {}
        totals: dict[str, float] = {}
        for line in text.splitlines():
            if line.startswith(f"{name}_bucket"):
                le = line.split('le="', 1)[1].split('"', 1)[0]
                buckets[le] = float(line.rsplit(" ", 1)[1])
            elif line.startswith((f"{name}_count", f"{name}_sum")):
                totals[line.split(" ", 1)[0].rsplit("_", 1)[1]] = float(line.rsplit(" ", 1)[1])
        if totals:
            seen[(totals["count"], totals["sum"])] = {
                "groups": totals["count"],
                "requests": totals["sum"],
                "mean_size": round(totals["sum"] / totals["count"], 2) if totals["count"] else 0,
                "cumulative_buckets": buckets,
            }
    return list(seen.values())


def measure_load(
    port: int, pids: tuple[int, int], tokens: tuple[str, str], accounts: list[str]
) -> dict[str, Any]:
    """The load phases, posting as the member wallet app; ``pids`` are the ledger's and
    the postmaster's (see `settle`).

    Single transfers, closed loop (wrk, ``CLIENTS`` connections), Zipf payees over every
    account: the sustained rate, with the CPU each request costs the ledger and
    PostgreSQL, and the group sizes it ran at; the same over the ``HOT`` first accounts;
    then the open-loop run at half the sustained rate (`bench.ledger.openloop`) for p50,
    p99 and p99.9; then 1,000-transfer batches and balance reads (as the operator)."""
    operator, wallet = tokens
    common = {"token": wallet, "accounts": accounts, "currency": CURRENCY}
    phase = {"connections": CLIENTS, "seconds": SECONDS}
    cpu_before = [_cpu_s(pid) for pid in pids]
    single = wrk(port, "single", **phase, zipf=1, **common)
    cpu_after = [_cpu_s(pid) for pid in pids]
    answered = max(1, single["requests"] - single["errors"])
    single["cpu_us_per_request"] = {
        "ledger": round(1e6 * (cpu_after[0] - cpu_before[0]) / answered, 1),
        "postgres": round(1e6 * (cpu_after[1] - cpu_before[1]) / answered, 1),
    }
    groups = group_sizes(port)
    drain = {"single": settle(*pids)}
    hot = wrk(port, "single", **phase, hot=HOT, **common)
    drain["single_hot"] = settle(*pids)
    profiled = profile_stages(port, pids[0], phase, common)
    drain["profiled"] = settle(*pids)
    target = single["per_s"] / 2
    half = open_loop(
        f"http://127.0.0.1:{port}", wallet, accounts, CURRENCY, rate=target, seconds=2 * SECONDS
    )
    drain["half"] = settle(*pids)
    batch = wrk(port, "batch", **phase, batch=BATCH, zipf=1, **common)
    drain["batch"] = settle(*pids)
    reads = wrk(port, "read", **phase, token=operator, accounts=accounts, currency=CURRENCY)
    return {
        "single": single,
        "single_hot": hot,
        "groups": groups,
        "batch": batch,
        "reads": reads,
        "half": half,
        "drain": drain,
        "stages": profiled,
    }


def profile_stages(
    port: int, ledger: int, phase: dict[str, Any], common: dict[str, Any]
) -> dict[str, Any]:
    """The single-transfer phase again (Zipf payees), under a py-spy profile of the ledger's
    processes: its CPU per request by stage (`bench.ledger.stages`). A phase of its own, so
    the sampling's cost stays out of the measured rates; skipped without py-spy."""
    tool = stages.py_spy()
    if tool is None:
        return {"skipped": "py-spy not found (requirements-dev.txt, or BENCH_LEDGER_PYSPY)"}
    out = ROOT / "profile-single.txt"
    spy = stages.record(tool, ledger, phase["seconds"], out)
    time.sleep(0.5)  # attached to every worker before the load starts
    before = _cpu_s(ledger)
    run = wrk(port, "single", **phase, zipf=1, **common)
    cpu = _cpu_s(ledger) - before
    spy.wait()
    per_request = 1e6 * cpu / max(1, run["requests"] - run["errors"])
    return {
        "requests": run["requests"],
        "errors": run["errors"],
        "per_s": round(run["per_s"], 1),
        "cpu_us_per_request": round(per_request, 1),
        "by_stage": stages.by_stage(out.read_text(), per_request) if out.exists() else {},
    }


def measure_floor(
    server: LocalPostgres, jwks: str, token: str, accounts: list[str]
) -> dict[str, Any]:
    """The same single-transfer load against `bench.ledger.floor` (one round trip, nothing
    else): the ceiling of one Python HTTP request per transfer on this machine."""
    port = free_port()
    proc = start_ledger(server, jwks, port, app="bench.ledger.floor:create_app")
    try:
        wait_ready(f"http://127.0.0.1:{port}", proc)
        common = {"token": token, "accounts": accounts, "currency": CURRENCY}
        return {"floor": wrk(port, "single", connections=CLIENTS, seconds=SECONDS, **common)}
    finally:
        stop_ledger(proc)


def measure_balance_at(
    server: LocalPostgres, jwks: str, token: str, accounts: list[str]
) -> dict[str, Any]:
    """Build the long history with no ledger running, then time balance-at reads on a
    ledger started without background tasks: the audit sealer would otherwise spend minutes
    hashing the million synthetic transactions, on the same two cores, during the reads."""
    hot, *others = accounts
    built_s, first, last = build_history(server.database_url("bench_ledger"), hot, others)
    port = free_port()
    proc = start_ledger(server, jwks, port, background=False)
    try:
        wait_ready(f"http://127.0.0.1:{port}", proc)
        at = wrk(
            port,
            "balance_at",
            connections=1,
            seconds=min(SECONDS, 5),
            hot=hot,
            token=token,
            accounts=accounts,
            currency=CURRENCY,
            **{"from": first, "to": last},
        )
    finally:
        stop_ledger(proc)
    return {"at": at, "history_build_s": built_s}


def figures(baseline: float, m: dict[str, Any]) -> dict[str, Any]:
    single, hot, batch, reads, half, at = (
        m[k] for k in ("single", "single_hot", "batch", "reads", "half", "at")
    )
    errors = {
        "single": single["errors"],
        "single_hot": hot["errors"],
        "half_rate": half["errors"],
        "batch": batch["errors"],
        "balance_reads": reads["errors"],
        "balance_at": at["errors"],
    }
    return {
        # The figures the targets are about (issue 16).
        "ratio_single": round(single["per_s"] / baseline, 3),
        "ratio_batch": round(batch["per_s"] * BATCH / baseline, 3),
        "single_p99_ms": round(half["p99_ms"], 2),
        "sustained_single_per_s": round(single["per_s"], 1),
        "errors": sum(errors.values()),
        "balance_reads_per_s": round(reads["per_s"], 1),
        "balance_at_ms": round(at["p50_ms"], 2),
        # How and where they were measured.
        "clients": CLIENTS,
        "workers": WORKERS,
        "seconds_per_phase": SECONDS,
        "cpus": os.cpu_count(),
        "load_average": m["load_average"],
        "accounts": len(m["accounts"]),
        "payees": "zipf s=1 over every account (hot case: uniform over the first 200)",
        "poster": f"member wallet app {WALLET!r} under mandates (reads: the operator)",
        "pgbench": "TPC-B scale 10, -M prepared, same clients",
        "pgbench_tps": round(baseline, 1),
        "errors_by_phase": errors,
        "single_tps": round(single["per_s"], 1),
        "single_closed_loop_p50_ms": round(single["p50_ms"], 2),
        "single_closed_loop_p99_ms": round(single["p99_ms"], 2),
        "single_cpu_us_per_request": single["cpu_us_per_request"],
        "group_sizes_at_peak": m["groups"],
        "single_hot_tps": round(hot["per_s"], 1),
        "ratio_single_hot": round(hot["per_s"] / baseline, 3),
        "single_hot_p99_ms": round(hot["p99_ms"], 2),
        "half_rate_generator": "open loop, constant arrival rate (bench/ledger/openloop.py)",
        "half_rate_target_per_s": round(half["target_per_s"], 1),
        "half_rate_achieved_per_s": round(half["achieved_per_s"], 1),
        "half_rate_p50_ms": round(half["p50_ms"], 2),
        "half_rate_p99_ms": round(half["p99_ms"], 2),
        "half_rate_p999_ms": round(half["p999_ms"], 2),
        "half_rate_max_ms": round(half["max_ms"], 2),
        "half_rate_generator_cpu_s": round(half["generator_cpu_s"], 2),
        "batch_tps": round(batch["per_s"] * BATCH, 1),
        "batch_p50_ms": round(batch["p50_ms"], 2),
        "batch_p99_ms": round(batch["p99_ms"], 2),
        "drain_after_single_s": round(m["drain"]["single"], 1),
        "drain_after_single_hot_s": round(m["drain"]["single_hot"], 1),
        "drain_after_half_s": round(m["drain"]["half"], 1),
        "drain_after_batch_s": round(m["drain"]["batch"], 1),
        "balance_read_p99_ms": round(reads["p99_ms"], 2),
        "history_postings": HISTORY,
        "history_build_s": round(m["history_build_s"], 1),
        "balance_at_p99_ms": round(at["p99_ms"], 2),
        "balance_at_reads": at["requests"],
        "floor_tps": round(m["floor"]["per_s"], 1),
        "ratio_floor": round(m["floor"]["per_s"] / baseline, 3),
        "db_floor_single_tps": round(m["db_floor"]["single_tps"], 1),
        "db_floor_batch_tps": round(m["db_floor"]["batch_tps"], 1),
        "ratio_db_floor_single": round(m["db_floor"]["single_tps"] / baseline, 3),
        "ratio_db_floor_batch": round(m["db_floor"]["batch_tps"] / baseline, 3),
        "ratio_reads": round(reads["per_s"] / baseline, 3),
        # The ledger's CPU per posting request by stage (`bench.ledger.stages`, py-spy)
        "request_cpu_us_by_stage": m["stages"].get("by_stage") or m["stages"],
        "request_cpu_profiled_phase": {k: v for k, v in m["stages"].items() if k != "by_stage"},
        "drain_after_profiled_s": round(m["drain"]["profiled"], 1),
        # What each part of the single-transfer posting SQL costs (`bench.ledger.db_components`)
        **m["db_components"],
    }


def main() -> int:
    # SIGTERM (a timeout, a parent's kill) unwinds like Ctrl-C: the ledger and PostgreSQL
    # started below are stopped by the ``finally`` instead of being left behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    shutil.rmtree(ROOT, ignore_errors=True)
    server = LocalPostgres(data_dir=ROOT / "postgres", port=free_port())
    server.start()
    proc: subprocess.Popen[bytes] | None = None
    try:
        baseline = pgbench_baseline(server)
        for name in ("bench_ledger", "bench_events"):
            server.create_database(name, recreate=True)
        url = server.database_url("bench_ledger")
        upgrade("ledger", url)
        load_average = [os.getloadavg()]
        jwks, token, wallet = signing_material()
        port = free_port()
        proc = start_ledger(server, jwks, port)
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, proc)
        accounts = prepare_ledger(base, token)
        if os.environ.get("BENCH_LEDGER_HOLD"):
            # Profiling aid: keep the stack up and print how to reach it.
            print(
                json.dumps({"port": port, "pid": proc.pid, "token": token, "accounts": accounts}),
                flush=True,
            )
            proc.wait()
            return 0
        pids = (proc.pid, postmaster_pid(server))
        settle(*pids)
        measured = measure_load(port, pids, (token, wallet), accounts)
        stop_ledger(proc)
        proc = None
        settle(postmaster_pid(server))
        measured |= measure_floor(server, jwks, token, accounts)
        measured["db_floor"] = db_floor.measure(
            server,
            "bench_ledger",
            accounts,
            currency=CURRENCY,
            clients=CLIENTS,
            seconds=SECONDS,
            batch=BATCH,
            workdir=ROOT,
        )
        measured["db_components"] = db_components.measure(
            server,
            "bench_ledger",
            currency=CURRENCY,
            clients=CLIENTS,
            accounts=len(accounts),
            workdir=ROOT,
        )
        measured |= measure_balance_at(server, jwks, token, accounts)
        load_average.append(os.getloadavg())
        measured["load_average"] = {
            "at_start": [round(x, 2) for x in load_average[0]],
            "at_end": [round(x, 2) for x in load_average[1]],
        }
        measured["accounts"] = accounts
        result = figures(baseline, measured)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2))
        return 0
    finally:
        if proc is not None:
            stop_ledger(proc)
        server.destroy()
