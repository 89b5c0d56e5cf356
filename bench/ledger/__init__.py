"""``make bench-ledger``: ledger API throughput against ``pgbench`` TPC-B, on one embedded
PostgreSQL server, in one run.

1. ``pgbench`` TPC-B (scale 10, ``CLIENTS`` clients, ``SECONDS`` s) gives the baseline tps:
   what this server does for a small read-write transaction with no API in front.
2. The ledger runs under uvicorn (outbox relay on, access log off) against a migrated
   database on the same server; ``CLIENTS`` keep-alive connections post single transfers
   between random accounts, then 1,000-transfer atomic batches, then read balances.
3. Figures and ratios go to stdout and ``bench/results/ledger.json``.

The load generator is a minimal HTTP/1.1 keep-alive client on asyncio streams in its own
process (no HTTP library on the hot path), so the client steals as little CPU as possible;
on a small machine it still shares the cores with the server and PostgreSQL: the ratios
are the figures to compare, not the absolute rates.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import random
import re
import shutil
import subprocess
import sys
import time
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from deploy.local.postgres import REPO, LocalPostgres
from shared.auth import AUDIENCE, ISSUER
from shared.migrate import upgrade

CLIENTS = int(os.environ.get("BENCH_LEDGER_CLIENTS", "8"))
SECONDS = float(os.environ.get("BENCH_LEDGER_SECONDS", "10"))
ACCOUNTS = 200
BATCH = 1_000
ROOT = REPO / ".cache" / "bench" / "ledger"
RESULTS = REPO / "bench" / "results" / "ledger.json"
CURRENCY = "BENCH"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def signing_material() -> tuple[str, str]:
    """(JWKS for the service, a token with every ledger scope on the bench currency)."""
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid="bench", use="sig", alg="ES256")
    now = int(time.time())
    token = jwt.encode(
        {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "bench",
            "iat": now,
            "exp": now + 3600,
            "scope": "ledger:admin ledger:post ledger:read",
            "tenants": {"currencies": [CURRENCY]},
        },
        key,
        algorithm="ES256",
        headers={"kid": "bench"},
    )
    return json.dumps({"keys": [jwk]}), token


def pgbench_tps(server: LocalPostgres) -> float:
    server.create_database("pgbench", recreate=True)
    base = [server.bin("pgbench"), "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres"]
    subprocess.run([*base, "-i", "-q", "-s", "10", "pgbench"], check=True, capture_output=True)
    out = subprocess.run(
        [*base, "-c", str(CLIENTS), "-j", str(min(CLIENTS, 4)), "-T", str(int(SECONDS)), "pgbench"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    match = re.search(r"tps = ([\d.]+)", out)
    assert match, out
    return float(match.group(1))


# --- load generator (runs in its own process) ---------------------------------------------


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes
) -> tuple[int, bytes]:
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
    return status, await reader.readexactly(length)


def _raw(method: str, path: str, token: str, body: Any = None) -> bytes:
    payload = b"" if body is None else json.dumps(body).encode()
    return (
        f"{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload


def _transfer(accounts: list[str], rng: random.Random) -> dict[str, Any]:
    source, dest = rng.sample(accounts, 2)
    return {
        "postings": [
            {"account_id": source, "currency": CURRENCY, "amount": -1},
            {"account_id": dest, "currency": CURRENCY, "amount": 1},
        ]
    }


async def _drive(port: int, token: str, accounts: list[str], mode: str) -> dict[str, Any]:
    deadline = time.perf_counter() + SECONDS
    latencies: list[float] = []
    errors = 0

    async def worker(seed: int) -> None:
        nonlocal errors
        rng = random.Random(seed)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < deadline:
            if mode == "single":
                raw = _raw("POST", "/transactions", token, _transfer(accounts, rng))
            elif mode == "batch":
                items = [_transfer(accounts, rng) for _ in range(BATCH)]
                raw = _raw("POST", "/batches", token, {"mode": "atomic", "items": items})
            else:
                raw = _raw("GET", f"/accounts/{rng.choice(accounts)}/balance", token)
            started = time.perf_counter()
            status, _ = await _request(reader, writer, raw)
            latencies.append(time.perf_counter() - started)
            errors += status >= 300
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(CLIENTS)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "per_s": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
    }


def _drive_in_process(args: tuple[int, str, list[str], str]) -> dict[str, Any]:
    return asyncio.run(_drive(*args))


def load(port: int, token: str, accounts: list[str], mode: str) -> dict[str, Any]:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_drive_in_process, ((port, token, accounts, mode),))


# --- the run -----------------------------------------------------------------------------------


def prepare_ledger(base: str, token: str) -> list[str]:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        r = client.post(
            "/currencies",
            json={
                "code": CURRENCY,
                "kind": "mutual_credit",
                "operator": "bench",
                "rules": {"credit_limit": {"default_limit": 10**9, "max_limit": 10**9}},
            },
        )
        r.raise_for_status()
        return [
            client.post("/accounts", json={"currency": CURRENCY, "type": "member"}).json()["id"]
            for _ in range(ACCOUNTS)
        ]


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


def main() -> int:
    shutil.rmtree(ROOT, ignore_errors=True)
    server = LocalPostgres(data_dir=ROOT / "postgres", port=free_port())
    server.start()
    proc: subprocess.Popen[bytes] | None = None
    try:
        baseline = pgbench_tps(server)
        for name in ("bench_ledger", "bench_events"):
            server.create_database(name, recreate=True)
        upgrade("ledger", server.database_url("bench_ledger"))
        jwks, token = signing_material()
        port = free_port()
        env = {
            **os.environ,
            "PROXIMA_ENV": "development",
            "PROXIMA_DATABASE_URL": server.database_url("bench_ledger"),
            "PROXIMA_EVENTS_DATABASE_URL": server.database_url("bench_events"),
            "PROXIMA_JWKS_JSON": jwks,
            "PROXIMA_LOG_LEVEL": "WARNING",
        }
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "services.ledger.app:create_app",
                "--factory",
                "--port",
                str(port),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=REPO,
        )
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, proc)
        accounts = prepare_ledger(base, token)
        single = load(port, token, accounts, "single")
        batch = load(port, token, accounts, "batch")
        reads = load(port, token, accounts, "read")
        figures = {
            "clients": CLIENTS,
            "seconds_per_phase": SECONDS,
            "cpus": os.cpu_count(),
            "pgbench_tps": round(baseline, 1),
            "single_tps": round(single["per_s"], 1),
            "single_p50_ms": round(single["p50_ms"], 2),
            "single_p99_ms": round(single["p99_ms"], 2),
            "single_errors": single["errors"],
            "batch_tps": round(batch["per_s"] * BATCH, 1),
            "batch_p99_ms": round(batch["p99_ms"], 2),
            "batch_errors": batch["errors"],
            "balance_reads_per_s": round(reads["per_s"], 1),
            "balance_read_p99_ms": round(reads["p99_ms"], 2),
            "ratio_single": round(single["per_s"] / baseline, 3),
            "ratio_batch": round(batch["per_s"] * BATCH / baseline, 3),
        }
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
        print(json.dumps(figures, indent=2))
        return 0
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        server.destroy()
