"""The regional dashboard in a real headless Chromium: it loads, logs in through
``/oauth/token``, shows the figures it already has, and updates when a live event is
published on the bus during the test.

The gateway runs as a real uvicorn process on the embedded bus (PostgreSQL-backed), the
same way ``make run`` starts it; events are published exactly as a service's relay does.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from deploy.local.postgres import REPO
from deploy.local.stack import ServiceProcess
from shared.events.catalog.diagnostics import AggregateUpdated
from shared.events.catalog.funding import BudgetCommitted, PaymentOrdered, PaymentPaid
from shared.events.catalog.ledger import PostedLeg, TransactionPosted
from shared.events.registry import EventPayload
from shared.settings import ServiceSettings
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, SPACES, login
from tests.support.events import owned_event, publish_as_owner
from tests.support.ports import free_port

ADMIN_SECRET = "e2e-bootstrap-admin-secret-0123456789"
SCREENSHOT = REPO / ".cache" / "dashboard.png"


@pytest.fixture(scope="module")
def gateway(
    migrated_database: Callable[[str], str],
    new_database: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, str]]:
    """A gateway process; yields its URL and the events database URL."""
    run_dir = tmp_path_factory.mktemp("gateway-e2e")
    events_url = new_database("events")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROXIMA_")}
    env.update(
        PYTHONPATH=str(REPO),
        PROXIMA_ENV="test",
        PROXIMA_SERVICE_NAME="gateway",
        PROXIMA_DATABASE_URL=migrated_database("gateway"),
        PROXIMA_EVENTS_DATABASE_URL=events_url,
        PROXIMA_EVENT_BUS="embedded",
        PROXIMA_SIGNING_KEYS_DIR=str(run_dir / "keys"),
        PROXIMA_BOOTSTRAP_ADMIN_SECRET=ADMIN_SECRET,
        PROXIMA_LEDGER_URL="http://127.0.0.1:9",
        PROXIMA_FUNDING_URL="http://127.0.0.1:9",
        PROXIMA_DIAGNOSTICS_URL="http://127.0.0.1:9",
        PROXIMA_STREAM_POLL_INTERVAL_S="0.5",
    )
    process = ServiceProcess(
        name="gateway", port=free_port(), env=env, log_path=run_dir / "gateway.log"
    )
    process.start()
    try:
        process.wait_ready(timeout=60)
        yield process.url, events_url
    finally:
        process.stop()


def publish(events_url: str, *payloads: EventPayload) -> None:
    """Publish on the embedded bus, as a service's outbox relay would."""

    async def send() -> None:
        events = [owned_event(p, subject=f"e2e-{i}") for i, p in enumerate(payloads)]
        settings = ServiceSettings(event_bus="embedded", events_database_url=events_url)
        await publish_as_owner(settings, events)

    # Playwright's sync API owns this thread's event loop: publish from another thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, send()).result(timeout=30)


def dashboard_client(url: str) -> tuple[str, str]:
    """Register a dashboard client through the admin API, as an operator would."""
    form = {"grant_type": "client_credentials", "client_id": "admin", "client_secret": ADMIN_SECRET}
    admin = httpx.post(f"{url}/oauth/token", data=form).json()["access_token"]
    created = httpx.post(
        f"{url}/admin/clients",
        headers={"Authorization": f"Bearer {admin}"},
        json={
            "client_id": "tableau-regional",
            "name": "Tableau de bord régional",
            "role": "dashboard",
            "scopes": ["dashboard:read"],
            "tenants": {"territories": ["*"], "currencies": ["*"], "programmes": ["*"]},
        },
    )
    assert created.status_code == 201, created.text
    return created.json()["client_id"], created.json()["client_secret"]


def volume(territory: str, value: float, currency: str = "MESURE") -> AggregateUpdated:
    return AggregateUpdated(
        territory=territory,
        metric="currency_volume",
        period="2026-11",
        currency=currency,
        value=value,
        unit="EUR",
    )


def initial_region() -> list[EventPayload]:
    """What the region already knows when the page opens."""
    events: list[EventPayload] = [
        volume("38185", 48_250.0),
        volume("69123", 131_900.0),
        volume("42218", 9_400.0),
        volume("73065", 22_150.0, "ECO"),
        AggregateUpdated(
            territory="38185",
            metric="velocity",
            period="2026-11",
            currency="MESURE",
            value=2.4,
            unit="per_month",
        ),
        AggregateUpdated(
            territory="69123",
            metric="velocity",
            period="2026-11",
            currency="MESURE",
            value=1.7,
            unit="per_month",
        ),
    ]
    for territory, shares in {
        "38185": (0.18, 0.46, 0.21, 0.15),
        "69123": (0.41, 0.27, 0.19, 0.13),
        "42218": (0.22, 0.31, 0.17, 0.30),
    }.items():
        for engine, share in zip(
            ("productive", "residential", "public", "social"), shares, strict=True
        ):
            events.append(
                AggregateUpdated(
                    territory=territory,
                    metric=f"share_{engine}",
                    period="2026",
                    value=share,
                    unit="ratio",
                )
            )
    events.append(
        TransactionPosted(
            transaction_id="tx-e2e-1",
            currency="MESURE",
            kind="transfer",
            effective_date=date(2026, 11, 27),
            postings=[
                PostedLeg(account_id="m1", account_type="member", territory="38185", amount=-4_250),
                PostedLeg(
                    account_id="c1", account_type="merchant", territory="38185", amount=4_250
                ),
            ],
        )
    )
    events.append(
        BudgetCommitted(
            envelope_id="env-1",
            envelope_code="IDECLIC-2026",
            programme_code="IDECLIC-PROJET",
            year=2026,
            territory="38",
            application_id="dossier-17",
            amount_cents=4_000_000,
            committed_cents=4_000_000,
            ap_cents=90_000_000,
        )
    )
    events.append(
        PaymentOrdered(
            order_id="o-1",
            application_id="dossier-17",
            tranche_id="t-1",
            programme_code="IDECLIC-PROJET",
            territory="38",
            currency="EUR",
            amount=1_500_000,
            beneficiary_account_id="b",
            funding_account_id="f",
        )
    )
    events.append(
        PaymentPaid(
            order_id="o-1",
            application_id="dossier-17",
            tranche_id="t-1",
            programme_code="IDECLIC-PROJET",
            envelope_code="IDECLIC-2026",
            territory="38",
            mode="euro",
            currency="EUR",
            amount=1_500_000,
        )
    )
    return events


def test_the_dashboard_logs_in_and_updates_live(gateway: tuple[str, str]) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make tools` installs Debian's chromium")
    url, events_url = gateway
    client_id, secret = dashboard_client(url)
    publish(events_url, *initial_region())
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1600}, locale="fr-FR")
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))

            # A wrong secret is refused with a French message.
            page.goto(f"{url}/dashboard")
            page.get_by_label("Identifiant client").fill(client_id)
            page.get_by_label("Secret").fill("mauvais-secret")
            page.get_by_role("button", name="Se connecter").click()
            expect(page.locator("#erreur-connexion")).to_have_text(
                "Identifiant ou secret incorrect."
            )
            problems.clear()  # the browser logs the refused request itself

            login(page, url, client_id, secret)
            grenoble = page.locator('#table-monnaies tr[data-key="38185|MESURE"]')
            expect(grenoble.locator('[data-col="volume"]')).to_have_text(
                re.compile(f"48{SPACES}250 €")
            )
            # One row per programme, in euros (grants are decided in euros).
            programme = page.locator('#table-programmes tr[data-key="IDECLIC-PROJET"]')
            expect(programme.locator('[data-col="engage"]')).to_have_text(
                re.compile(f"40{SPACES}000,00 €")
            )
            expect(programme.locator('[data-col="verse"]')).to_have_text(
                re.compile(f"15{SPACES}000,00 €")
            )
            expect(
                page.locator('#table-moteurs tr[data-key="69123"] [data-col="productive"]')
            ).to_have_text(re.compile(r"41\s?%"))
            expect(page.locator("#graphique-classement g").first).to_have_attribute(
                "data-territoire", "69123"
            )

            # Live: a new figure for Saint-Étienne (42218) makes it the first territory.
            publish(events_url, volume("42218", 250_000.0))
            saint_etienne = page.locator('#table-monnaies tr[data-key="42218|MESURE"]')
            expect(saint_etienne.locator('[data-col="volume"]')).to_have_text(
                re.compile(f"250{SPACES}000 €"), timeout=15_000
            )
            expect(page.locator("#graphique-classement g").first).to_have_attribute(
                "data-territoire", "42218"
            )
            expect(page.locator("#flux li").first).to_contain_text("42218")
            page.wait_for_timeout(1500)  # let the highlight animation finish
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
    assert problems == [], problems
