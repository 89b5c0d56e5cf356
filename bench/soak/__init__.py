"""The 30-minute soak: the four services as processes on a durable PostgreSQL and a real
Kafka broker, under the mixed load of ``bench/soak/load.py`` through the gateway, sampled
every 10 s; the verdict judges the slopes (after a 5-minute warm-up) against the
thresholds below and the same integrity checks as the bounded test of ``make test``.

    make bench-soak      → bench/results/soak.json (figures, thresholds, verdict)
    PROXIMA_SOAK_S=600 make bench-soak   a shorter run, same thresholds

Thresholds, and why:
- RSS slope ≤ 25 MiB/h per service: a leak of 1 KiB per request at the soak's ~30 req/s
  is ~100 MiB/h; Python's allocator and the caches that fill up settle in the warm-up.
- open files slope ≤ 20 /h, database connections slope ≤ 5 /h: both are counts that go up
  and down with connection churn; a leak is a steady climb, noise is a slope near 0.
- consumer lag slope ≤ 600 messages/h per group (10 a minute: the consumers keep up), and
  lag 0 once the load has stopped and the saga has settled.
- no 5xx, no transport error, every acknowledged transfer stored once, every ordered
  tranche paid.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import httpx

from bench.kafka_stack import kafka_stack
from bench.soak.run import Outcome, Plan, run_soak
from bench.soak.sampling import SERVICES
from deploy.local.kafka_broker import KafkaBroker
from deploy.local.postgres import REPO
from deploy.local.stack import Stack

RESULTS = REPO / "bench" / "results" / "soak.json"
WORK = REPO / ".cache" / "bench" / "soak"
ADMIN_SECRET = "bench-soak-admin-secret"
DURATION_S = float(os.environ.get("PROXIMA_SOAK_S", "1800"))
SAMPLE_EVERY_S = 10.0
WARMUP_S = 300.0

MAX_RSS_SLOPE_MIB_PER_H = 25.0
MAX_FDS_SLOPE_PER_H = 20.0
MAX_DB_CONNECTIONS_SLOPE_PER_H = 5.0
MAX_LAG_SLOPE_PER_H = 600.0


def verdict(outcome: Outcome) -> dict[str, list[str]]:
    """Each threshold crossed, named; an empty list passes."""
    f = outcome.figures
    failed: list[str] = []
    if f["server_errors"] or f["transport_errors"]:
        failed.append(f"errors: {f['server_errors']} {f['transport_errors']}")
    if outcome.lost or outcome.duplicated or outcome.wrong_id:
        failed.append(
            f"transfers lost {len(outcome.lost)}, duplicated {len(outcome.duplicated)}, "
            f"wrong id {len(outcome.wrong_id)}"
        )
    if set(outcome.tranches) - {"paid"}:
        failed.append(f"tranches not paid: {dict(outcome.tranches)}")
    for name in SERVICES:
        service = f["services"][name]
        for what, slope, limit in (
            ("RSS", service["rss_mib"]["slope_mib_per_h"], MAX_RSS_SLOPE_MIB_PER_H),
            ("open files", service["open_fds"]["slope_per_h"], MAX_FDS_SLOPE_PER_H),
            (
                "db connections",
                service["db_connections"]["slope_per_h"],
                MAX_DB_CONNECTIONS_SLOPE_PER_H,
            ),
        ):
            if slope is not None and slope > limit:
                failed.append(f"{name} {what} slope {slope}/h > {limit}/h")
    for group, lag in f["consumer_lag"].items():
        if lag["final"] != 0:
            failed.append(f"{group} lag {lag['final']} after settling")
        if lag["slope_per_h"] is not None and lag["slope_per_h"] > MAX_LAG_SLOPE_PER_H:
            failed.append(f"{group} lag slope {lag['slope_per_h']}/h > {MAX_LAG_SLOPE_PER_H}/h")
    return {"failed": failed}


async def _soak(stack: Stack, kafka: KafkaBroker) -> Outcome:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{stack.gateway_url}/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "admin",
                "client_secret": ADMIN_SECRET,
            },
        )
        response.raise_for_status()
        token = str(response.json()["access_token"])
    plan = Plan(load_s=DURATION_S, sample_every_s=SAMPLE_EVERY_S, warmup_s=WARMUP_S)
    return await run_soak(stack, kafka.client_options("admin"), token, plan)


def main() -> int:
    with kafka_stack(
        WORK,
        postgres_port=55433,
        kafka_port=59093,
        base_port=57000,
        db_prefix="soak",
        admin_secret=ADMIN_SECRET,
        extra_env={
            "PROXIMA_ARGON2_TIME_COST": "1",
            "PROXIMA_ARGON2_MEMORY_KIB": "8192",
            # the load's tokens outlive the run (the stream closes at a token's expiry)
            "PROXIMA_TOKEN_TTL_S": str(int(DURATION_S) + 3600),
        },
    ) as (stack, broker):
        outcome = asyncio.run(_soak(stack, broker))
    thresholds: dict[str, Any] = {
        "rss_slope_mib_per_h": MAX_RSS_SLOPE_MIB_PER_H,
        "open_fds_slope_per_h": MAX_FDS_SLOPE_PER_H,
        "db_connections_slope_per_h": MAX_DB_CONNECTIONS_SLOPE_PER_H,
        "consumer_lag_slope_per_h": MAX_LAG_SLOPE_PER_H,
    }
    result = {**outcome.figures, "thresholds": thresholds, "verdict": verdict(outcome)}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 1 if result["verdict"]["failed"] else 0
