"""Resilience under load: while a load generator posts transactions through the gateway,
the ledger is killed with SIGKILL and restarted, then the diagnostics service, then the
Kafka broker is restarted. Afterwards every acknowledged transaction exists exactly once,
every currency balances, the aggregates equal the ledger's own record, and no client saw a
5xx other than 503. Figures go to bench/results/resilience.json."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import pytest

from deploy.local.postgres import REPO, LocalPostgres
from deploy.local.stack import Stack
from tests.support.stack import admin_token, e2e_stack
from tests.support.sync_waiting import wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

CURRENCY = "RESIL"
TERRITORY = "38185"  # Grenoble
RESULTS = REPO / "bench" / "results" / "resilience.json"


@dataclass
class Load:
    """What the clients saw."""

    requests: int = 0
    retried: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    acknowledged: dict[str, int] = field(default_factory=dict)
    ack_times: list[float] = field(default_factory=list)
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
    ids = []
    for limit in (10**12, None):
        body: dict[str, Any] = {"currency": CURRENCY, "type": "member", "territory": TERRITORY}
        if limit:
            body["credit_limit"] = limit
        response = api.post("/ledger/accounts", json=body)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids[0], ids[1]


def _post_until_acknowledged(
    api: httpx.Client, load: Load, key: str, body: dict[str, Any], stop_at: float
) -> None:
    first = True
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
                load.ack_times.append(time.monotonic())
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
    stop_at = time.monotonic() + 150
    total = 5_000  # an upper bound: the load stops once the last outage is over
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

    def acked() -> int:
        with load.lock:
            return len(load.acknowledged)

    def outage(name: str, kill: Any, restart: Any) -> None:
        before = acked()
        wait_until(acked, lambda n: n >= before + 100, timeout=60)
        killed_at = time.monotonic()
        kill()
        restart()
        wait_until(
            lambda: load.ack_times[-1] if load.ack_times else 0.0,
            lambda t: t > killed_at,
            timeout=90,
        )
        first_ack = min(t for t in load.ack_times if t > killed_at)
        recovery[name] = round(first_ack - killed_at, 2)

    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(worker) for _ in range(6)]
        for service in ("ledger", "diagnostics"):
            proc = stack.services[service]
            outage(service, proc.kill, lambda s=service: stack.start_service(s).wait_ready(90))
        outage("kafka", lambda: None, kafka.restart)
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
    period = date.today().strftime("%Y-%m")

    def aggregate() -> dict[str, Any] | None:
        items = api.get(
            "/diagnostics/aggregates",
            params={"territory": TERRITORY, "currency": CURRENCY, "period": period},
        ).json()["items"]
        return items[0] if items else None

    row = wait_until(
        aggregate, lambda r: r is not None and r["transactions"] >= len(seen), timeout=120
    )
    assert row is not None
    assert row["transactions"] == len(seen)
    assert row["volume"] == expected_volume

    # clients saw no 5xx but 503
    bad = {s: n for s, n in load.statuses.items() if s >= 500 and s != 503}
    assert bad == {}, load.statuses

    figures = {
        "requests": load.requests,
        "acknowledged": len(acknowledged),
        "retried": load.retried,
        "lost": len(lost),
        "duplicated": len(duplicated),
        "unacknowledged_but_committed": len(set(seen) - set(acknowledged)),
        "status_counts": {str(k): v for k, v in sorted(load.statuses.items())},
        "recovery_s": recovery,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures))
