"""The cost of the gateway hop, measured in one run: the same ledger request
(``GET /currencies/{code}`` with a valid token) sent with the same concurrency directly to
the ledger's port and through the gateway (``/api/ledger/currencies/{code}``).

    make bench-gateway   → bench/results/gateway.json (direct_rps, gateway_rps, ratio)

The load generator is ``wrk`` when it is installed (C, event loop, keep-alive: it costs the
machine far less than the servers it measures); otherwise an asyncio httpx client with the
same number of concurrent connections. Fair by construction: the same token, request and
connection count on both sides, one warm-up per side, the same ledger process answering
both (so the upstream is configured alike), and rounds in ABBA order (direct, gateway,
gateway, direct…) so drift (CPU boost, caches, autovacuum, other load) hits both sides
alike; the median round of each side is kept.

Throughput on a small machine depends on everything else running, so the JSON also gives
CPU time per request of the gateway and of the ledger on each side (from /proc, Linux),
the steadier figure: on two cores every millisecond the gateway spends is taken from the
ledger behind it. Services run under uvicorn's defaults, which pick uvloop and httptools
when installed (``server`` in the JSON says which were importable).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import time
from typing import Any

import httpx

from bench.proc_cpu import cpu_s
from deploy.local.postgres import REPO, LocalPostgres
from deploy.local.stack import Stack, running_stack

RESULTS = REPO / "bench" / "results" / "gateway.json"
WORK = REPO / ".cache" / "bench" / "gateway"
ADMIN_SECRET = "bench-gateway-admin-secret"
CURRENCY = "GWBENCH"
CONNECTIONS = 32
ROUND_S = 6
ROUNDS = 5
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


class Rate:
    """One timed run: 2xx answers per second, failures, and all requests answered."""

    def __init__(self, rps: float, failed: int, total: int) -> None:
        self.rps, self.failed, self.total = rps, failed, total


def _wrk_rate(wrk: str, url: str, token: str, seconds: float) -> Rate:
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
    return Rate((total - (int(bad.group(1)) if bad else 0)) / elapsed, failed, total)


def _duration_s(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


async def _httpx_rate_async(url: str, token: str, seconds: float) -> Rate:
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
        return Rate(ok / (time.perf_counter() - started), failed, ok + failed)


def _rate(url: str, token: str, seconds: float) -> Rate:
    wrk = shutil.which("wrk")
    if wrk:
        return _wrk_rate(wrk, url, token, seconds)
    return asyncio.run(_httpx_rate_async(url, token, seconds))


def _cpu_ms_per_request(before: float | None, after: float | None, requests: int) -> float | None:
    if before is None or after is None or not requests:
        return None
    return (after - before) * 1000 / requests


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 3) if known else None


def _measure(stack: Stack) -> dict[str, Any]:
    token = _token(stack.gateway_url)
    _setup(stack, token)
    urls = {
        "direct": f"{stack.services['ledger'].url}/currencies/{CURRENCY}",
        "gateway": f"{stack.gateway_url}/api/ledger/currencies/{CURRENCY}",
    }
    pids: dict[str, int] = {}
    for name in ("gateway", "ledger"):
        process = stack.services[name].process
        assert process is not None
        pids[name] = process.pid
    for url in urls.values():  # same answer both ways before timing anything
        response = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert response.status_code == 200, (url, response.status_code, response.text)
        _rate(url, token, WARMUP_S)
    rates: dict[str, list[float]] = {"direct": [], "gateway": []}
    cpu: dict[str, list[float | None]] = {
        "gateway": [],
        "ledger_direct": [],
        "ledger_via_gateway": [],
    }
    failures = 0
    for round_no in range(ROUNDS):
        order = ["direct", "gateway"] if round_no % 2 == 0 else ["gateway", "direct"]
        for side in order:
            before = {name: cpu_s(pid) for name, pid in pids.items()}
            rate = _rate(urls[side], token, ROUND_S)
            after = {name: cpu_s(pid) for name, pid in pids.items()}
            rates[side].append(rate.rps)
            failures += rate.failed
            per_request = {
                name: _cpu_ms_per_request(before[name], after[name], rate.total) for name in pids
            }
            if side == "gateway":
                cpu["gateway"].append(per_request["gateway"])
                cpu["ledger_via_gateway"].append(per_request["ledger"])
            else:
                cpu["ledger_direct"].append(per_request["ledger"])
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
        "round_order": "ABBA (direct first in even rounds, gateway first in odd ones)",
        "rounds_direct_rps": [round(r, 1) for r in rates["direct"]],
        "rounds_gateway_rps": [round(r, 1) for r in rates["gateway"]],
        # CPU per request, medians over rounds: what the hop costs whatever else runs.
        "gateway_cpu_ms_per_request": _median(cpu["gateway"]),
        "ledger_cpu_ms_per_request_direct": _median(cpu["ledger_direct"]),
        "ledger_cpu_ms_per_request_via_gateway": _median(cpu["ledger_via_gateway"]),
        "non_2xx_or_errors": failures,
        "load_generator": "wrk" if shutil.which("wrk") else "httpx-asyncio",
        "server": {
            "loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
            "http": "httptools" if importlib.util.find_spec("httptools") else "h11",
        },
        "cpus": os.cpu_count(),
        "event_bus": "embedded",
    }


def main() -> int:
    # Ports below Linux's ephemeral range (32768+): one the kernel hands to an outgoing
    # connection meanwhile would stop a service from binding it (a lost run).
    postgres = LocalPostgres(data_dir=WORK / "postgres", port=29190)
    postgres.destroy()
    postgres.start()
    try:
        stack = Stack(
            postgres=postgres,
            run_dir=WORK / "run",
            event_bus="embedded",
            base_port=29100,
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
