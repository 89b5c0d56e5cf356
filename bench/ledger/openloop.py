"""An open-loop load generator: single transfers sent at a constant arrival rate, whatever
the answers' latency, for the latency at half the sustained rate.

Why not wrk: a closed-loop client waits for an answer before it sends again, so a stall
slows the arrivals and the requests that would have waited are never sent (coordinated
omission): the stall hides itself. Here request ``i`` is due at ``start + i / rate`` and its
latency runs from that instant, not from when it could be sent; every non-2xx answer and
every transport error is counted. wrk2 (wrk's constant-rate fork) is not packaged; a small
asyncio client on aiohttp is enough at a few hundred requests per second, and its CPU is
reported so that its share of the two cores is known.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import json
import random
import resource
import time
from collections.abc import Sequence
from typing import Any

import aiohttp


class Payees:
    """Who pays whom: payers drawn uniformly; payees drawn by Zipf's law (s = 1: the
    account of rank k is chosen in proportion to 1/k, merchants are hot), or uniformly
    among the first ``hot`` accounts when ``hot`` is set (the 200-hot-account case)."""

    def __init__(self, accounts: Sequence[str], *, hot: int | None, seed: int) -> None:
        self.accounts = list(accounts[:hot] if hot else accounts)
        self.hot = hot
        self.random = random.Random(seed)
        weights = itertools.accumulate(1 / rank for rank in range(1, len(self.accounts) + 1))
        self.cumulative = list(weights)

    def pair(self) -> tuple[str, str]:
        n = len(self.accounts)
        payer = self.accounts[self.random.randrange(n)]
        while True:
            if self.hot:
                payee = self.accounts[self.random.randrange(n)]
            else:
                draw = self.random.random() * self.cumulative[-1]
                payee = self.accounts[bisect.bisect_left(self.cumulative, draw)]
            if payee != payer:
                return payer, payee


def transfer(payer: str, payee: str, currency: str) -> bytes:
    return json.dumps(
        {
            "postings": [
                {"account_id": payer, "currency": currency, "amount": -1},
                {"account_id": payee, "currency": currency, "amount": 1},
            ]
        }
    ).encode()


def percentile(ordered: Sequence[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _run(
    url: str, token: str, payees: Payees, currency: str, *, rate: float, seconds: float
) -> dict[str, Any]:
    count = int(rate * seconds)
    latencies: list[float] = []
    errors = {"status": 0, "transport": 0}
    prefix = f"open-{random.randrange(1 << 30)}-"
    connector = aiohttp.TCPConnector(limit=256)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession(
        url, connector=connector, headers=headers, timeout=aiohttp.ClientTimeout(total=30)
    ) as session:

        async def one(index: int, due: float) -> None:
            payer, payee = payees.pair()
            try:
                async with session.post(
                    "/transactions",
                    data=transfer(payer, payee, currency),
                    headers={"Idempotency-Key": f"{prefix}{index}"},
                ) as r:
                    await r.read()
                    if r.status >= 300:
                        errors["status"] += 1
            except (aiohttp.ClientError, TimeoutError):
                errors["transport"] += 1
                return
            latencies.append(time.perf_counter() - due)

        cpu = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter() + 0.1
        tasks = []
        for index in range(count):
            due = start + index / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(index, due)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
        used = resource.getrusage(resource.RUSAGE_SELF)
    ordered = sorted(latencies)
    return {
        "requests": count,
        "target_per_s": rate,
        "achieved_per_s": len(latencies) / elapsed,
        "errors": errors["status"] + errors["transport"],
        "status_errors": errors["status"],
        "transport_errors": errors["transport"],
        "p50_ms": 1000 * percentile(ordered, 0.50),
        "p99_ms": 1000 * percentile(ordered, 0.99),
        "p999_ms": 1000 * percentile(ordered, 0.999),
        "max_ms": 1000 * (ordered[-1] if ordered else float("nan")),
        "generator_cpu_s": (used.ru_utime + used.ru_stime) - (cpu.ru_utime + cpu.ru_stime),
    }


def open_loop(
    url: str,
    token: str,
    accounts: Sequence[str],
    currency: str,
    *,
    rate: float,
    seconds: float,
    hot: int | None = None,
) -> dict[str, Any]:
    """Send ``rate`` transfers per second for ``seconds``; latency percentiles from each
    request's due instant, errors counted, the generator's own CPU seconds."""
    payees = Payees(accounts, hot=hot, seed=random.randrange(1 << 30))
    return asyncio.run(_run(url, token, payees, currency, rate=rate, seconds=seconds))
