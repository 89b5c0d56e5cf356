"""The cost of the gateway hop, measured in one run: the same ledger request
(``GET /currencies/{code}`` with a valid token) sent with the same concurrency directly to
the ledger's port and through the gateway (``/api/ledger/currencies/{code}``).

    make bench-gateway   → bench/results/gateway.json (direct_rps, gateway_rps, ratio)

The load generator is ``wrk`` when it is installed (C, event loop, keep-alive: it costs the
machine far less than the servers it measures); otherwise an asyncio httpx client with the
same number of concurrent connections. Rounds alternate direct and gateway so drift (CPU
boost, caches, autovacuum) hits both sides alike; the median round of each side is kept.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import statistics
import subprocess
import time
from typing import Any

import httpx

from deploy.local.postgres import REPO, LocalPostgres
from deploy.local.stack import Stack, running_stack

RESULTS = REPO / "bench" / "results" / "gateway.json"
WORK = REPO / ".cache" / "bench" / "gateway"
ADMIN_SECRET = "bench-gateway-admin-secret"
CURRENCY = "GWBENCH"
CONNECTIONS = 32
ROUND_S = 8
ROUNDS = 3
WARMUP_S = 3


def _token(gateway_url: str) -> str:
    response = httpx.post(
        f"{gateway_url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "admin",
            "client_secret": ADMIN_SECRET,
        },
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def _setup(stack: Stack, token: str) -> None:
    response = httpx.post(
        f"{stack.gateway_url}/api/ledger/currencies",
        headers={"Authorization": f"Bearer {token}"},
        json={"code": CURRENCY, "kind": "mutual_credit", "operator": "Bench"},
        timeout=30,
    )
    response.raise_for_status()


def _wrk_rate(wrk: str, url: str, token: str, seconds: float) -> tuple[float, int]:
    """Requests per second (2xx only) and the count of other answers, measured by wrk."""
    out = subprocess.run(
        [
            wrk,
            "-t1",
            f"-c{CONNECTIONS}",
            f"-d{int(seconds)}s",
            "--latency",
            "-H",
            f"Authorization: Bearer {token}",
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    elapsed = _duration_s(re.search(r"requests in ([\d.]+\w+),", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = (int(bad.group(1)) if bad else 0) + (
        sum(int(g) for g in errors.groups()) if errors else 0
    )
    return (total - (int(bad.group(1)) if bad else 0)) / elapsed, failed


def _duration_s(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


async def _httpx_rate_async(url: str, token: str, seconds: float) -> tuple[float, int]:
    ok = failed = 0
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    async with httpx.AsyncClient(
        headers={"Authorization": f"Bearer {token}"}, limits=limits, timeout=30
    ) as http:
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal ok, failed
            while time.perf_counter() < stop:
                response = await http.get(url)
                if response.status_code == 200:
                    ok += 1
                else:
                    failed += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
        return ok / (time.perf_counter() - started), failed


def _rate(url: str, token: str, seconds: float) -> tuple[float, int]:
    wrk = shutil.which("wrk")
    if wrk:
        return _wrk_rate(wrk, url, token, seconds)
    return asyncio.run(_httpx_rate_async(url, token, seconds))


def _measure(stack: Stack) -> dict[str, Any]:
    token = _token(stack.gateway_url)
    _setup(stack, token)
    urls = {
        "direct": f"{stack.services['ledger'].url}/currencies/{CURRENCY}",
        "gateway": f"{stack.gateway_url}/api/ledger/currencies/{CURRENCY}",
    }
    for url in urls.values():  # same answer both ways before timing anything
        response = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert response.status_code == 200, (url, response.status_code, response.text)
        _rate(url, token, WARMUP_S)
    rates: dict[str, list[float]] = {"direct": [], "gateway": []}
    failures = 0
    for _ in range(ROUNDS):
        for side, url in urls.items():
            rate, failed = _rate(url, token, ROUND_S)
            rates[side].append(rate)
            failures += failed
    direct = statistics.median(rates["direct"])
    gateway = statistics.median(rates["gateway"])
    return {
        "direct_rps": round(direct, 1),
        "gateway_rps": round(gateway, 1),
        "ratio": round(gateway / direct, 3),
        "target_ratio": 0.7,
        "request": "GET /currencies/{code} (ledger) vs GET /api/ledger/currencies/{code}",
        "connections": CONNECTIONS,
        "rounds": ROUNDS,
        "round_s": ROUND_S,
        "rounds_direct_rps": [round(r, 1) for r in rates["direct"]],
        "rounds_gateway_rps": [round(r, 1) for r in rates["gateway"]],
        "non_2xx_or_errors": failures,
        "load_generator": "wrk" if shutil.which("wrk") else "httpx-asyncio",
        "event_bus": "embedded",
    }


def main() -> int:
    postgres = LocalPostgres(data_dir=WORK / "postgres", port=55442)
    postgres.destroy()
    postgres.start()
    try:
        stack = Stack(
            postgres=postgres,
            run_dir=WORK / "run",
            event_bus="embedded",
            base_port=58100,
            db_prefix="benchgw",
            extra_env={
                "PROXIMA_ENV": "test",
                "PROXIMA_BOOTSTRAP_ADMIN_SECRET": ADMIN_SECRET,
                "PROXIMA_RATE_LIMIT_PER_MINUTE": "10000000",
                "PROXIMA_RATE_LIMIT_BURST": "1000000",
                "PROXIMA_LOG_LEVEL": "WARNING",
            },
        )
        with running_stack(stack):
            figures = _measure(stack)
    finally:
        postgres.destroy()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return 0
