"""The regional loop's figures, measured in one run with Kafka on: the sustained posting rate
through the gateway (peak, with concurrent clients), then the end-to-end latency from a
transaction posted at 50 % of that peak to its arrival on the dashboard stream (p50/p99).

    make bench-loop      → bench/results/loop.json (rate_per_s, e2e_p50_ms, e2e_p99_ms,
                           posted, never_reached_stream, errors)

Every transaction posted in the latency phase is followed to the stream: one that never
arrives is counted (``never_reached_stream``, which must be 0), not silently left out of
the percentiles.
"""

from __future__ import annotations

import asyncio
import json
import math
import statistics
import time
from typing import Any

import httpx

from bench.kafka_stack import kafka_stack
from deploy.local.postgres import REPO
from deploy.local.stack import Stack

RESULTS = REPO / "bench" / "results" / "loop.json"
WORK = REPO / ".cache" / "bench" / "loop"
CURRENCY = "LOOPBENCH"
TERRITORY = "69123"
ADMIN_SECRET = "bench-admin-secret"
PAIRS = 16


async def _setup(api: httpx.AsyncClient) -> list[tuple[str, str]]:
    r = await api.post(
        "/ledger/currencies",
        json={
            "code": CURRENCY,
            "kind": "mutual_credit",
            "operator": "Bench",
            "rules": {"credit_limit": {"default_limit": 10**12, "max_limit": 10**12}},
        },
    )
    r.raise_for_status()
    pairs = []
    for _ in range(PAIRS):
        ids = []
        for limit in (10**12, None):
            body: dict[str, Any] = {"currency": CURRENCY, "type": "member", "territory": TERRITORY}
            if limit:
                body["credit_limit"] = limit
            r = await api.post("/ledger/accounts", json=body)
            r.raise_for_status()
            ids.append(r.json()["id"])
        pairs.append((ids[0], ids[1]))
    return pairs


def _body(pair: tuple[str, str], amount: int) -> dict[str, Any]:
    return {
        "kind": "transfer",
        "postings": [
            {"account_id": pair[0], "currency": CURRENCY, "amount": -amount},
            {"account_id": pair[1], "currency": CURRENCY, "amount": amount},
        ],
    }


async def _peak_rate(api: httpx.AsyncClient, pairs: list[tuple[str, str]], seconds: float) -> float:
    done = 0
    stop = time.perf_counter() + seconds

    async def client(i: int) -> None:
        nonlocal done
        while time.perf_counter() < stop:
            r = await api.post("/ledger/transactions", json=_body(pairs[i % PAIRS], 1))
            if r.status_code == 201:
                done += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(PAIRS)))
    return done / (time.perf_counter() - started)


def nearest_rank(sorted_values: list[float], q: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least ``q`` of the samples
    at or below it (the p99 of 150 samples is the 149th, not the 148th)."""
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


async def _latency(
    api: httpx.AsyncClient, pairs: list[tuple[str, str]], rate: float, seconds: float
) -> tuple[list[float], int, int]:
    """Latencies of the transactions that reached the stream, how many were posted, and
    how many posts were refused or failed."""
    posted_at: dict[str, float] = {}
    arrived_at: dict[str, float] = {}
    ready = asyncio.Event()
    last_event = [time.perf_counter()]

    async def listen() -> None:
        async with api.stream("GET", "/stream", timeout=None) as response:
            async for line in response.aiter_lines():
                if line.startswith("event: hello"):
                    ready.set()
                if line.startswith("data:"):
                    last_event[0] = time.perf_counter()
                    try:
                        data = json.loads(line[5:])
                    except ValueError:
                        continue
                    inner = data.get("data") if isinstance(data, dict) else None
                    tx = inner.get("transaction_id") if isinstance(inner, dict) else None
                    if tx:
                        arrived_at.setdefault(tx, time.perf_counter())

    listener = asyncio.create_task(listen())
    await asyncio.wait_for(ready.wait(), 30)
    # Let the backlog of the peak phase drain (every service's consumers, not just one
    # partition): wait until the stream has been quiet for 3 s before timing anything.
    drain_deadline = time.perf_counter() + 240
    while time.perf_counter() < drain_deadline and time.perf_counter() - last_event[0] < 3:
        await asyncio.sleep(0.2)
    arrived_at.clear()
    interval = 1.0 / rate
    sends: list[asyncio.Task[None]] = []
    errors = 0

    async def send(i: int) -> None:
        nonlocal errors
        t0 = time.perf_counter()
        try:
            r = await api.post("/ledger/transactions", json=_body(pairs[i % PAIRS], 1))
        except httpx.TransportError:
            errors += 1
            return
        if r.status_code == 201:
            posted_at[r.json()["id"]] = t0
        else:
            errors += 1

    start = time.perf_counter()
    i = 0
    while time.perf_counter() - start < seconds:
        sends.append(asyncio.create_task(send(i)))
        i += 1
        await asyncio.sleep(max(0.0, start + i * interval - time.perf_counter()))
    await asyncio.gather(*sends)
    deadline = time.perf_counter() + 30
    while time.perf_counter() < deadline and any(t not in arrived_at for t in posted_at):
        await asyncio.sleep(0.1)
    listener.cancel()
    latencies = [(arrived_at[t] - posted_at[t]) * 1000 for t in posted_at if t in arrived_at]
    return latencies, len(posted_at), errors


async def _measure(stack: Stack) -> dict[str, Any]:
    token = (
        await httpx.AsyncClient().post(
            f"{stack.gateway_url}/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "admin",
                "client_secret": ADMIN_SECRET,
            },
        )
    ).json()["access_token"]
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(
        base_url=f"{stack.gateway_url}/api",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
        limits=limits,
    ) as api:
        pairs = await _setup(api)
        await _peak_rate(api, pairs, 3)  # warm-up
        peak = await _peak_rate(api, pairs, 15)
        measured, posted, errors = await _latency(api, pairs, peak * 0.5, 20)
    latencies = sorted(measured)
    p99 = nearest_rank(latencies, 0.99)
    return {
        "rate_per_s": round(peak, 1),
        "latency_probe_rate_per_s": round(peak * 0.5, 1),
        "e2e_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "e2e_p99_ms": round(p99, 1) if p99 is not None else None,
        "e2e_samples": len(latencies),
        "posted": posted,
        "never_reached_stream": posted - len(latencies),
        "errors": errors,
        "event_bus": "kafka",
    }


def main() -> int:
    with kafka_stack(
        WORK,
        postgres_port=55432,
        kafka_port=59092,
        base_port=58000,
        db_prefix="bench",
        admin_secret=ADMIN_SECRET,
    ) as (stack, _):
        figures = asyncio.run(_measure(stack))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return 0
