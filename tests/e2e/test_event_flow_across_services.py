"""The whole stack as processes on real Apache Kafka: transactions posted to the ledger
through the gateway reach the diagnostics service's aggregates exactly once, even though the
broker is restarted while they flow; and the regional dashboard, in a real headless
Chromium, shows a transfer posted to the real ledger (ledger → Kafka → diagnostics → Kafka
→ gateway stream → browser)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from deploy.local.postgres import LocalPostgres
from deploy.local.stack import Stack
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, SPACES, login
from tests.support.stack import admin_token, e2e_stack
from tests.support.sync_waiting import wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

TERRITORY = "69123"  # Lyon
CURRENCY = "FLOWTEST"


@pytest.fixture(scope="module")
def stack(
    postgres: LocalPostgres, kafka: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    with e2e_stack(
        postgres=postgres, kafka=kafka, run_dir=tmp_path_factory.mktemp("stack")
    ) as running:
        yield running


def _client(stack: Stack) -> httpx.Client:
    token = admin_token(stack.gateway_url)
    return httpx.Client(
        base_url=f"{stack.gateway_url}/api",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def _post_ok(api: httpx.Client, path: str, body: dict[str, Any], **kw: Any) -> dict[str, Any]:
    response = api.post(path, json=body, **kw)
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


def test_ledger_transactions_reach_diagnostics_once_across_a_broker_restart(
    stack: Stack, kafka: Any, tmp_path: Path
) -> None:
    api = _client(stack)
    _post_ok(
        api,
        "/ledger/currencies",
        {
            "code": CURRENCY,
            "kind": "mutual_credit",
            "operator": "Réseau B2B de test",
            "rules": {"credit_limit": {"default_limit": 1_000_000, "max_limit": 1_000_000}},
        },
    )
    payer = _post_ok(
        api,
        "/ledger/accounts",
        {
            "currency": CURRENCY,
            "type": "member",
            "territory": TERRITORY,
            "credit_limit": 1_000_000,
        },
    )["id"]
    payee = _post_ok(
        api, "/ledger/accounts", {"currency": CURRENCY, "type": "member", "territory": TERRITORY}
    )["id"]

    def post(n: int) -> int:
        body = {
            "kind": "transfer",
            "idempotency_key": f"flow-{n}",
            "postings": [
                {"account_id": payer, "currency": CURRENCY, "amount": -(100 + n)},
                {"account_id": payee, "currency": CURRENCY, "amount": 100 + n},
            ],
        }
        for _ in range(20):  # the client retries as a real one would; the key makes it safe
            try:
                response = api.post("/ledger/transactions", json=body)
            except httpx.HTTPError:
                continue
            if response.status_code in (200, 201):
                return 100 + n
        raise AssertionError(f"transaction {n} never acknowledged")

    total = 120
    with ThreadPoolExecutor(max_workers=4) as pool:
        first = list(pool.map(post, range(40)))
        kafka.restart()  # the broker goes away and comes back while events are in flight
        rest = list(pool.map(post, range(40, total)))
    expected_volume = sum(first) + sum(rest)

    period = date.today().strftime("%Y-%m")

    def aggregate() -> dict[str, Any] | None:
        response = api.get(
            "/diagnostics/aggregates",
            params={
                "territory": TERRITORY,
                "currency": CURRENCY,
                "period": period,
            },
        )
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        return items[0] if items else None

    row = wait_until(aggregate, lambda r: r is not None and r["transactions"] >= total, timeout=120)
    assert row is not None
    assert row["transactions"] == total
    assert row["volume"] == expected_volume
    assert row["spent_locally"] == expected_volume


def test_every_service_answers_ready_through_its_own_port(stack: Stack) -> None:
    for proc in stack.services.values():
        assert httpx.get(f"{proc.url}/readyz", timeout=10).status_code == 200


def test_the_dashboard_shows_a_transfer_posted_to_the_real_ledger(stack: Stack) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make tools` installs Debian's chromium")
    api = _client(stack)
    currency, territory = "VITRINE", "38185"  # Grenoble
    _post_ok(
        api,
        "/ledger/currencies",
        {
            "code": currency,
            "kind": "mutual_credit",
            "operator": "Réseau de démonstration",
            "rules": {"credit_limit": {"default_limit": 1_000_000, "max_limit": 1_000_000}},
        },
    )
    payer, payee = (
        _post_ok(
            api,
            "/ledger/accounts",
            {"currency": currency, "type": "member", "territory": territory, **extra},
        )["id"]
        for extra in ({"credit_limit": 1_000_000}, {})
    )
    admin = httpx.Client(
        base_url=stack.gateway_url,
        headers={"Authorization": f"Bearer {admin_token(stack.gateway_url)}"},
        timeout=30,
    )
    created = admin.post(
        "/admin/clients",
        json={
            "client_id": "tableau-kafka",
            "name": "Tableau de bord régional",
            "role": "dashboard",
            "scopes": ["dashboard:read"],
            "tenants": {"territories": ["*"], "currencies": ["*"], "programmes": ["*"]},
        },
    )
    assert created.status_code == 201, created.text
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400}, locale="fr-FR")
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on(
                "response",
                lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
            )
            login(page, stack.gateway_url, "tableau-kafka", created.json()["client_secret"])
            _post_ok(
                api,
                "/ledger/transactions",
                {
                    "kind": "transfer",
                    "postings": [
                        {"account_id": payer, "currency": currency, "amount": -123_456},
                        {"account_id": payee, "currency": currency, "amount": 123_456},
                    ],
                },
                headers={"Idempotency-Key": "vitrine-1"},
            )
            row = page.locator(f'#table-monnaies tr[data-key="{territory}|{currency}"]')
            expect(row.locator('[data-col="volume"]')).to_have_text(
                re.compile(f"1{SPACES}234,56 {currency}"), timeout=60_000
            )
        finally:
            browser.close()
    assert problems == [], problems
