"""One soak, start to finish, on a running stack: the setup, the mixed load for
``load_s`` seconds with a sample every ``sample_every_s``, then the settling (every
ordered tranche paid, every consumer group's lag back to 0), the read-back of every
acknowledged transfer from the ledger's database, and the figures with their slopes.

Both the 30-minute bench (``make bench-soak``) and the bounded test of ``make test``
(tests/resilience/test_soak.py) run this; each judges the figures against thresholds of
its own, stated where they are (``bench/soak/__init__.py``, the test module)."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bench.soak.load import Load, Tally, World, setup
from bench.soak.sampling import SERVICES, Samples, lag_now, sample_until
from deploy.local.stack import Stack

SETTLE_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Plan:
    load_s: float
    sample_every_s: float
    transfer_workers: int = 4
    transfer_rate_per_s: float = 20.0  # in total, across the workers
    read_period_s: float = 0.25
    grant_pause_s: float = 0.5
    warmup_s: float = 20.0  # left out of the slopes: pools, caches and JIT-free warm-up


@dataclass
class Outcome:
    tally: Tally
    samples: Samples
    lost: list[str]
    duplicated: list[str]
    wrong_id: list[str]
    tranches: Counter[str]
    settle_s: float
    final_lag: dict[str, int]
    figures: dict[str, Any]


def read_back(stack: Stack, acknowledged: dict[str, str]) -> tuple[list[str], list[str], list[str]]:
    """Lost, duplicated and wrongly identified transfers, read from the ledger's database."""
    rows = stack.postgres.psql(
        "SELECT metadata->>'soak_key', id FROM transactions WHERE metadata ? 'soak_key'",
        database=f"{stack.db_prefix}_ledger",
    )
    stored: dict[str, list[str]] = {}
    for row in rows.splitlines():
        key, tx = row.split("|")
        stored.setdefault(key, []).append(tx)
    lost = [k for k in acknowledged if k not in stored]
    duplicated = [k for k, ids in stored.items() if len(ids) > 1]
    wrong = [k for k, tx in acknowledged.items() if k in stored and stored[k] != [tx]]
    return lost, duplicated, wrong


def tranche_statuses(stack: Stack, ids: list[str]) -> Counter[str]:
    if not ids:
        return Counter()
    listed = ",".join(f"'{i}'" for i in ids)
    rows = stack.postgres.psql(
        "SELECT status || coalesce(': ' || failure_reason, ''), count(*) FROM tranches "
        f"WHERE id IN ({listed}) GROUP BY 1",
        database=f"{stack.db_prefix}_funding",
    )
    return Counter({s: int(n) for s, n in (r.split("|") for r in rows.splitlines())})


async def run_soak(
    stack: Stack, kafka_options: dict[str, Any], admin_token: str, plan: Plan
) -> Outcome:
    world: World = await asyncio.to_thread(setup, stack.gateway_url, admin_token)
    tally, samples, stop, sampled = Tally(), Samples(), asyncio.Event(), asyncio.Event()
    load = Load(stack.gateway_url, world, tally, stop)
    started = time.monotonic()
    sampler = asyncio.create_task(
        sample_until(
            stack, kafka_options, samples, sampled, every_s=plan.sample_every_s, started=started
        )
    )
    dashboard = asyncio.create_task(load.dashboard())
    rate = plan.transfer_rate_per_s / plan.transfer_workers
    clients = [
        *(load.transfers(w, rate) for w in range(plan.transfer_workers)),
        load.reads(plan.read_period_s),
        load.grants(plan.grant_pause_s),
    ]
    running = asyncio.gather(*clients)
    try:
        await asyncio.wait_for(asyncio.shield(running), plan.load_s)
    except TimeoutError:
        pass
    stop.set()
    await running
    load_ended = time.monotonic()

    # settling: every ordered tranche paid (or failed), every group's lag back to 0
    deadline = load_ended + SETTLE_TIMEOUT_S
    while True:
        tranches = await asyncio.to_thread(tranche_statuses, stack, tally.tranches_ordered)
        final_lag = await lag_now(kafka_options)
        settled = tranches["ordered"] == 0 and all(v == 0 for v in final_lag.values())
        if settled or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)
    settle_s = time.monotonic() - load_ended
    dashboard.cancel()
    sampled.set()
    await sampler  # its last sample is taken after the settling
    lost, duplicated, wrong = await asyncio.to_thread(read_back, stack, tally.acknowledged)
    outcome = Outcome(
        tally, samples, lost, duplicated, wrong, tranches, settle_s, final_lag, figures={}
    )
    outcome.figures = figures(outcome, plan, load_ended - started)
    return outcome


def figures(o: Outcome, plan: Plan, load_s: float) -> dict[str, Any]:
    s = o.samples
    per_service: dict[str, Any] = {}
    for name in SERVICES:
        per_service[name] = {
            "rss_mib": {
                "first": round(s.series(f"rss_mib.{name}")[0][1], 1),
                "last": round(s.last(f"rss_mib.{name}"), 1),
                "max": round(s.maximum(f"rss_mib.{name}"), 1),
                "slope_mib_per_h": _round(
                    s.slope_per_hour(f"rss_mib.{name}", after_s=plan.warmup_s)
                ),
            },
            "open_fds": {
                "first": s.series(f"fds.{name}")[0][1],
                "last": s.last(f"fds.{name}"),
                "max": s.maximum(f"fds.{name}"),
                "slope_per_h": _round(s.slope_per_hour(f"fds.{name}", after_s=plan.warmup_s)),
            },
            "cpu_percent_mean": _cpu_percent(s, name),
            "db_connections": {
                "max": s.maximum(f"db_connections.{name}"),
                "last": s.last(f"db_connections.{name}"),
                "slope_per_h": _round(
                    s.slope_per_hour(f"db_connections.{name}", after_s=plan.warmup_s)
                ),
            },
        }
    lag = {
        name.removeprefix("lag."): {
            "max": s.maximum(name),
            "slope_per_h": _round(s.slope_per_hour(name, after_s=plan.warmup_s)),
            "final": o.final_lag.get(name.removeprefix("lag."), 0),
        }
        for name in s.names()
        if name.startswith("lag.")
    }
    t = o.tally
    return {
        "load_s": round(load_s, 1),
        "samples": len(s.rows),
        "sample_every_s": plan.sample_every_s,
        "slopes_after_s": plan.warmup_s,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "load1_during_run": {
            "mean": _round(statistics.fmean(v for _, v in s.series("load1"))),
            "max": _round(s.maximum("load1")),
        },
        "requests": t.requests(),
        "status_counts": {
            k: {str(st): n for st, n in sorted(c.items())} for k, c in t.statuses.items()
        },
        "server_errors": t.server_errors(),
        "transport_errors": dict(t.transport_errors),
        "transfers_acknowledged": len(t.acknowledged),
        "transfers_retried": t.retried,
        "transfers_lost": len(o.lost),
        "transfers_duplicated": len(o.duplicated),
        "transfers_wrong_id": len(o.wrong_id),
        "grant_cycles": t.grant_cycles,
        "tranches": dict(o.tranches),
        "stream_events": t.stream_events,
        "stream_opened": t.stream_opened,
        "settle_s": round(o.settle_s, 1),
        "services": per_service,
        "consumer_lag": lag,
    }


def _cpu_percent(s: Samples, name: str) -> float | None:
    """Mean CPU of a service process over the sampled run, in % of one core."""
    series = s.series(f"cpu_s.{name}")
    if len(series) < 2 or series[-1][0] <= series[0][0]:
        return None
    (t0, c0), (t1, c1) = series[0], series[-1]
    return round(100 * (c1 - c0) / (t1 - t0), 1)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
