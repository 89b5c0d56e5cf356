"""The bounded soak of ``make test``: the four services as processes on the suite's durable
PostgreSQL and the session's Kafka broker, under mixed load through the gateway for
``LOAD_S`` seconds (keyed transfers, balance reads, diagnostics reads, the grant workflow
up to a tranche's payment order, a dashboard listener on ``/api/stream``), sampled every
``SAMPLE_EVERY_S`` seconds (RSS, open files, database connections, consumer lag). The
30-minute soak of ``make bench-soak`` runs the same load (``bench/soak``).

Only what holds on a loaded 2-core machine is asserted here: no 5xx and no transport
error, every acknowledged transfer stored once under its acknowledged id (read back from
the ledger's database), every ordered tranche paid, every consumer group's lag back to 0,
and open files and database connections under fixed bounds. Slopes are recorded, not
asserted: two minutes of RSS on a shared machine is warm-up, not a trend (the 30-minute
run judges slopes). Figures go to ``bench/results/soak-bounded.json``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bench.soak.run import Plan, run_soak
from bench.soak.sampling import SERVICES
from deploy.local.postgres import REPO, LocalPostgres
from deploy.local.stack import Stack
from tests.support.stack import admin_token, e2e_stack

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

LOAD_S = 60.0
SAMPLE_EVERY_S = 3.0
# A service holds a few dozen descriptors (sockets, its log, the interpreter's files); a
# leak of one per request would pass 256 within the run's thousands of requests.
MAX_OPEN_FDS = 256
# Each service's pool: 10 connections + 10 overflow (shared/db.py), for its database and
# for its events database; beyond that a connection is being leaked or pools multiplied.
MAX_DB_CONNECTIONS = 40
RESULTS = REPO / "bench" / "results" / "soak-bounded.json"


@pytest.fixture(scope="module")
def stack(
    postgres: LocalPostgres, kafka: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    with e2e_stack(postgres=postgres, kafka=kafka, run_dir=tmp_path_factory.mktemp("soak")) as s:
        yield s


async def test_two_minute_soak_keeps_every_transfer_and_its_resources_bounded(
    stack: Stack, kafka: Any
) -> None:
    plan = Plan(load_s=LOAD_S, sample_every_s=SAMPLE_EVERY_S)
    outcome = await run_soak(
        stack, kafka.client_options("admin"), admin_token(stack.gateway_url), plan
    )
    figures = outcome.figures
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")

    assert figures["server_errors"] == {}, figures["status_counts"]
    assert figures["transport_errors"] == {}
    assert figures["transfers_acknowledged"] > 100, figures
    assert (outcome.lost, outcome.duplicated, outcome.wrong_id) == ([], [], [])
    assert outcome.tally.grant_cycles >= 1, figures["status_counts"]
    assert set(outcome.tranches) == {"paid"}, outcome.tranches
    assert outcome.final_lag and all(v == 0 for v in outcome.final_lag.values()), outcome.final_lag
    assert outcome.tally.stream_events > 0
    for name in SERVICES:
        resources = figures["services"][name]
        assert resources["open_fds"]["max"] <= MAX_OPEN_FDS, (name, resources)
        assert resources["db_connections"]["max"] <= MAX_DB_CONNECTIONS, (name, resources)
