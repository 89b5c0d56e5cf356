"""Resilience under load: while a load generator posts transactions through the gateway,
the ledger (and with it its outbox relay, which runs in its process) is killed with
SIGKILL and restarted, then the diagnostics service (the events' consumer), then the
Kafka broker itself, each with SIGKILL; PostgreSQL is the suite's durable server.
Afterwards every acknowledged transaction exists exactly once, every currency balances,
the aggregates equal the ledger's own record, and no client saw a 5xx other than 503.

Recovery is measured on work that depends on the killed component: for the ledger, from
the kill to the first acknowledgement of a request sent after it; for each component, from
the kill to the moment a marker transfer posted after the kill (in a territory of its own)
shows in diagnostics' aggregates, i.e. went ledger → outbox → Kafka → diagnostics.
Figures go to bench/results/resilience.json."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import pytest

from deploy.local.postgres import LocalPostgres
from deploy.local.stack import Stack
from tests.support.crash_ledger import record_figures
from tests.support.stack import admin_token, e2e_stack
from tests.support.sync_waiting import wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

CURRENCY = "RESIL"
TERRITORY = "38185"  # Grenoble
# Where each outage's marker transfer is posted: a territory no other transfer touches.
MARKERS = {"ledger": "69123", "diagnostics": "75056", "kafka": "13055"}


@dataclass
class Load:
    """What the clients saw."""

    requests: int = 0
    retried: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    acknowledged: dict[str, int] = field(default_factory=dict)
    # (first send, acknowledgement) of each acknowledged key, time.monotonic()
    acks: list[tuple[float, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def saw(self, status: int) -> None:
        with self.lock:
            self.requests += 1
            self.statuses[status] += 1


@pytest.fixture(scope="module")
def stack(
    postgres: LocalPostgres, kafka: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    with e2e_stack(
        postgres=postgres, kafka=kafka, run_dir=tmp_path_factory.mktemp("resilience")
    ) as running:
        yield running


def _pair(api: httpx.Client, territory: str) -> tuple[str, str]:
    """A payer with a credit limit and a payee, both in ``territory``."""
    ids = []
    for limit in (10**12, None):
        body: dict[str, Any] = {"currency": CURRENCY, "type": "member", "territory": territory}
        if limit:
            body["credit_limit"] = limit
        response = api.post("/ledger/accounts", json=body)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids[0], ids[1]


def _setup(api: httpx.Client) -> tuple[str, str]:
    response = api.post(
        "/ledger/currencies",
        json={
            "code": CURRENCY,
            "kind": "mutual_credit",
            "operator": "Réseau de test",
            "rules": {"credit_limit": {"default_limit": 10**12, "max_limit": 10**12}},
        },
    )
    assert response.status_code == 201, response.text
    return _pair(api, TERRITORY)


def _post_until_acknowledged(
    api: httpx.Client, load: Load, key: str, body: dict[str, Any], stop_at: float
) -> None:
    first = True
    started = time.monotonic()
    while time.monotonic() < stop_at:
        if not first:
            with load.lock:
                load.retried += 1
            time.sleep(0.2)
        first = False
        try:
            response = api.post("/ledger/transactions", json=body, headers={"Idempotency-Key": key})
        except httpx.HTTPError:
            load.saw(0)  # the gateway itself is never killed; count transport errors apart
            continue
        load.saw(response.status_code)
        if response.status_code in (200, 201):
            with load.lock:
                load.acknowledged[key] = body["postings"][1]["amount"]
                load.acks.append((started, time.monotonic()))
            return


def test_nothing_lost_or_doubled_when_services_and_broker_die_under_load(
    stack: Stack, kafka: Any
) -> None:
    token = admin_token(stack.gateway_url)
    api = httpx.Client(
        base_url=f"{stack.gateway_url}/api",
        headers={"Authorization": f"Bearer {token}"},
        timeout=httpx.Timeout(15.0),
    )
    payer, payee = _setup(api)
    load = Load()
    stop_at = time.monotonic() + 240
    total = 50_000  # an upper bound: the load stops once the last outage is over
    enough = threading.Event()
    counter = iter(range(total))
    counter_lock = threading.Lock()

    def worker() -> None:
        while True:
            with counter_lock:
                n = next(counter, None)
            if n is None or enough.is_set() or time.monotonic() > stop_at:
                return
            amount = 1 + n % 97
            body = {
                "kind": "transfer",
                "metadata": {"load_key": f"k{n}"},
                "postings": [
                    {"account_id": payer, "currency": CURRENCY, "amount": -amount},
                    {"account_id": payee, "currency": CURRENCY, "amount": amount},
                ],
            }
            _post_until_acknowledged(api, load, f"k{n}", body, stop_at)

    recovery: dict[str, float] = {}
    detail: dict[str, dict[str, float]] = {}
    markers = {name: _pair(api, territory) for name, territory in MARKERS.items()}
    period = date.today().strftime("%Y-%m")

    def acked() -> int:
        with load.lock:
            return len(load.acknowledged)

    def aggregate(territory: str) -> dict[str, Any] | None:
        response = api.get(
            "/diagnostics/aggregates",
            params={"territory": territory, "currency": CURRENCY, "period": period},
        )
        if response.status_code != 200:  # diagnostics restarting: not there yet
            return None
        items = response.json()["items"]
        return items[0] if items else None

    def relayed_at(account: str) -> float | None:
        """Wall time the outbox row of the transfer touching ``account`` was published."""
        found = stack.postgres.psql(
            "SELECT extract(epoch FROM max(published_at)) FROM outbox "
            f"WHERE convert_from(payload, 'UTF8') LIKE '%{account}%'",
            database=f"{stack.db_prefix}_ledger",
        ).strip()
        return float(found) if found else None

    def first_ack_sent_after(instant: float) -> float | None:
        with load.lock:
            later = [acked_at for sent, acked_at in load.acks if sent > instant]
        return min(later) if later else None

    def outage(name: str, kill: Any, restart: Any, pool: ThreadPoolExecutor) -> None:
        before = acked()
        wait_until(acked, lambda n: n >= before + 100, timeout=60)
        payer_m, payee_m = markers[name]
        marker = {
            "kind": "transfer",
            "metadata": {"marker": name},
            "postings": [
                {"account_id": payer_m, "currency": CURRENCY, "amount": -1},
                {"account_id": payee_m, "currency": CURRENCY, "amount": 1},
            ],
        }
        killed_wall, killed_at = time.time(), time.monotonic()
        kill()
        # sent after the kill: through a dead ledger it is retried until acknowledged
        posted: Future[None] = pool.submit(
            _post_until_acknowledged, api, Load(), f"marker-{name}", marker, stop_at
        )
        restart()
        ready_at = time.monotonic()
        posted.result()
        wait_until(lambda: aggregate(MARKERS[name]), lambda r: r is not None, timeout=120)
        downstream_at = time.monotonic()
        first_ack = wait_until(
            lambda: first_ack_sent_after(killed_at), lambda t: t is not None, timeout=90
        )
        assert first_ack is not None
        relayed = relayed_at(payer_m)
        detail[name] = {
            "restart_s": round(ready_at - killed_at, 2),
            # when the ledger's outbox relay had the marker's event accepted by Kafka
            "kill_to_marker_relayed_s": round(relayed - killed_wall, 2) if relayed else -1.0,
            "kill_to_first_ack_sent_after_kill_s": round(first_ack - killed_at, 2),
            "kill_to_marker_downstream_s": round(downstream_at - killed_at, 2),
            "restart_to_marker_downstream_s": round(downstream_at - ready_at, 2),
        }
        # what the component's death cost the work that depends on it
        recovery[name] = detail[name][
            "kill_to_first_ack_sent_after_kill_s"
            if name == "ledger"
            else "kill_to_marker_downstream_s"
        ]

    def kafka_start() -> None:
        kafka.start()  # same data dir: the broker recovers its logs after the SIGKILL

    with ThreadPoolExecutor(max_workers=7) as pool:
        futures = [pool.submit(worker) for _ in range(6)]
        for service in ("ledger", "diagnostics"):
            proc = stack.services[service]
            outage(
                service, proc.kill, lambda s=service: stack.start_service(s).wait_ready(90), pool
            )
        outage("kafka", kafka.kill, kafka_start, pool)
        after = acked()
        wait_until(acked, lambda n: n >= after + 50, timeout=60)  # steady again after the last
        enough.set()
        for f in futures:
            f.result()

    acknowledged = dict(load.acknowledged)
    assert acknowledged, "the load generator got nothing acknowledged"

    # every acknowledged transaction exists exactly once in the ledger
    seen: Counter[str] = Counter()
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 200, "currency": CURRENCY}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/ledger/transactions", params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        for tx in body["items"]:
            key = tx["metadata"].get("load_key")
            if key:
                seen[key] += 1
        cursor = body.get("next_cursor")
        if not cursor:
            break
    lost = [k for k in acknowledged if seen[k] == 0]
    duplicated = [k for k, n in seen.items() if n > 1]
    assert lost == [] and duplicated == []

    # the currency balances
    balances = [api.get(f"/ledger/accounts/{a}").json()["posted"] for a in (payer, payee)]
    assert sum(balances) == 0
    expected_volume = sum(acknowledged.values()) + sum(
        1 + int(k[1:]) % 97 for k in seen if k not in acknowledged
    )
    assert balances[1] == expected_volume

    # the live aggregates equal the ledger's own record
    row = wait_until(
        lambda: aggregate(TERRITORY),
        lambda r: r is not None and r["transactions"] >= len(seen),
        timeout=120,
    )
    assert row is not None
    assert row["transactions"] == len(seen)
    assert row["volume"] == expected_volume

    # clients saw no 5xx but 503
    bad = {s: n for s, n in load.statuses.items() if s >= 500 and s != 503}
    assert bad == {}, load.statuses

    # each marker went through exactly once
    for name, territory in MARKERS.items():
        marker_row = aggregate(territory)
        assert marker_row is not None and marker_row["transactions"] == 1, (name, marker_row)

    figures = {
        "postgres": "durable: fsync, synchronous_commit, full_page_writes on",
        "outages": "SIGKILL of the ledger (with its outbox relay), of diagnostics "
        "(the consumer), of the Kafka broker; each restarted on its data",
        "requests": load.requests,
        "acknowledged": len(acknowledged),
        "retried": load.retried,
        "lost": len(lost),
        "duplicated": len(duplicated),
        "unacknowledged_but_committed": len(set(seen) - set(acknowledged)),
        "status_counts": {str(k): v for k, v in sorted(load.statuses.items())},
        "recovery_s": recovery,
        "recovery_detail_s": detail,
    }
    record_figures(None, figures)
