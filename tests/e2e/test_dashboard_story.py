"""The regional dashboard tells the whole story from the first minute (issue 19), in a real
headless Chromium against the whole system: the four services as processes, the demo
region seeded through the public API only (deploy/local/seed.py, as `make run` does), and
the demo dashboard client's printed credentials.

Each panel's figures are checked against sums read from the ledger, funding and
diagnostics APIs; the map is drawn from the official boundaries and answers hover and
click; a transfer posted to the real ledger through the gateway reaches the open page
within a second.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from deploy.local import seed
from deploy.local.postgres import REPO, LocalPostgres
from deploy.local.stack import Stack
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, SPACES, login
from tests.support.stack import ADMIN_SECRET, admin_token, e2e_stack

pytestmark = [pytest.mark.slow]

SCREENSHOT = REPO / ".cache" / "dashboard-story.png"
LIVE_WITHIN_S = 1.0


@pytest.fixture(scope="module")
def seeded(
    postgres: LocalPostgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Stack, dict[str, str]]]:
    """The whole system with the demo region seeded; the printed demo credentials."""
    with e2e_stack(
        postgres=postgres, kafka=None, run_dir=tmp_path_factory.mktemp("story")
    ) as stack:
        with mock.patch.dict(os.environ, {"PROXIMA_BOOTSTRAP_ADMIN_SECRET": ADMIN_SECRET}):
            started = time.monotonic()
            seed.seed_demo_region(stack)
            print(f"demo region seeded in {time.monotonic() - started:.1f} s")
        lines = Path(stack.run_dir / "demo-credentials.txt").read_text().splitlines()
        secrets = {line.split()[0]: line.split()[2] for line in lines if line.split()}
        yield stack, secrets


def _api(stack: Stack, client_id: str, secret: str) -> httpx.Client:
    response = httpx.post(
        f"{stack.gateway_url}/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    return httpx.Client(
        base_url=f"{stack.gateway_url}/api",
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )


def _get(api: httpx.Client, path: str, **params: Any) -> Any:
    response = api.get(path, params=params)
    assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:300]}"
    return response.json()


def french(units: float, decimals: int = 2) -> str:
    """A number as Intl.NumberFormat('fr-FR') writes it, as a pattern (any French space)."""
    whole, _, fraction = f"{units:,.{decimals}f}".partition(".")
    text = whole.replace(",", "\u202f") + ("," + fraction if fraction else "")
    return re.escape(text).replace("\u202f", SPACES)


def french_short(value: float) -> str:
    """As the page writes a ratio: at most two decimals, no trailing zeros."""
    text = f"{round(value, 2):,.2f}".rstrip("0").rstrip(".")
    whole, _, fraction = text.partition(".")
    return french(float(whole.replace(",", "")), 0) + (f",{fraction}" if fraction else "")


def euros(cents: int) -> re.Pattern[str]:
    return re.compile(f"^{french(cents / 100)} €$")


def percent_pattern(share: float) -> re.Pattern[str]:
    rounded = round(share * 100, 1)
    text = f"{rounded:.1f}".rstrip("0").rstrip(".").replace(".", ",")
    return re.compile(f"^{re.escape(text)}{SPACES}?%$")


def test_the_dashboard_tells_the_whole_story_from_the_first_minute(
    seeded: tuple[Stack, dict[str, str]],
) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make tools` installs Debian's chromium")
    stack, secrets = seeded
    # The sums the page must show, read from the services' own APIs (as the dashboard client).
    reader = _api(stack, "dashboard-region", secrets["dashboard-region"])
    envelope = _get(reader, "/funding/envelopes/IDECLIC-2026")
    assert envelope["committed_cents"] == 1_800_000 + 3_500_000  # two grants decided
    assert envelope["paid_cents"] > 0  # their advances paid in La Gonette
    applications = _get(reader, "/funding/applications", limit=100)["items"]
    paid_by_application = sum(a["paid_cents"] for a in applications)
    assert paid_by_application == envelope["paid_cents"]
    gonette = _get(reader, "/ledger/currencies/GONETTE/figures", window_days=30)
    cairn = _get(reader, "/ledger/currencies/CAIRN/figures", window_days=30)
    departements = _get(reader, "/diagnostics/typology", level="departement", limit=500)
    isere = next(i for i in departements["items"] if i["territory"] == "38")
    boundaries = _get(reader, "/diagnostics/boundaries", level="departement", limit=100)
    assert boundaries["type"] == "FeatureCollection" and boundaries["next_cursor"] is None
    admin = httpx.Client(
        base_url=f"{stack.gateway_url}/api",
        headers={"Authorization": f"Bearer {admin_token(stack.gateway_url)}"},
        timeout=60,
    )
    lyon_volume = _territory_volume(admin, "GONETTE", "69123")
    memberships = _get(reader, "/diagnostics/territories/38185/memberships")["items"]
    metropole = next(m["parent_code"] for m in memberships if m["relation"] == "epci")

    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 2400}, locale="fr-FR")
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            login(page, stack.gateway_url, "dashboard-region", secrets["dashboard-region"])

            # Grants: committed and paid equal the envelope's figures, in euros.
            expect(page.locator("#kpi-engage")).to_have_text(euros(envelope["committed_cents"]))
            expect(page.locator("#kpi-verse")).to_have_text(euros(envelope["paid_cents"]))
            programme = page.locator('#table-programmes tr[data-key="IDECLIC"]')
            expect(programme.locator('[data-col="engage"]')).to_have_text(
                euros(envelope["committed_cents"])
            )
            expect(programme.locator('[data-col="verse"]')).to_have_text(
                euros(envelope["paid_cents"])
            )
            expect(programme.locator('[data-col="monnaie"]')).to_have_text("GONETTE")
            expect(
                page.locator('#graphique-enveloppes g[data-enveloppe="IDECLIC-2026"]')
            ).to_contain_text(
                re.compile(f"AP : {french(envelope['committed_cents'] / 100)} € engagés")
            )

            # Currencies: territories by name, amounts as the ledger counts them.
            lyon = page.locator('#table-monnaies tr[data-key="69123|GONETTE"]')
            expect(lyon.locator('[data-col="territoire"]')).to_have_text("Lyon")
            expect(lyon.locator('[data-col="montant"]')).to_have_text(
                re.compile(f"^{french(lyon_volume / 100)} GONETTE$")
            )
            for code, figures in (("GONETTE", gonette), ("CAIRN", cairn)):
                row = page.locator(f'#table-circulation tr[data-key="{code}"]')
                expect(row.locator('[data-col="circulation"]')).to_have_text(
                    re.compile(f"^{french(figures['circulation'] / 100)} {code}$")
                )
                velocity = figures["velocity"]
                expect(row.locator('[data-col="velocite"]')).to_have_text(
                    re.compile(f"^{french_short(velocity)} par mois$")
                    if velocity is not None
                    else "—"
                )
                assert code != "GONETTE" or velocity > 0  # the seed's payments count
            last_point = page.locator('#courbe-circulation g[data-serie="GONETTE"] circle').last
            expect(last_point).to_have_attribute(
                "data-valeur", re.compile(f"^{gonette['circulation'] / 100:g}$")
            )
            expect(page.locator("#courbe-velocite polyline").first).to_be_attached()
            expect(page.locator("#graphique-classement g").first).to_be_attached()

            # Engines: the diagnostics service's shares, by département name.
            engines = page.locator('#table-moteurs tr[data-key="38"]')
            expect(engines.locator('[data-col="territoire"]')).to_have_text("Isère")
            expect(engines.locator('[data-col="productive"]')).to_have_text(
                percent_pattern(isere["engine_shares"]["productive"])
            )

            # The map: one path per département, hover figures, click opens the report.
            paths = page.locator("#carte path.territoire")
            expect(paths).to_have_count(len(boundaries["features"]))
            page.locator('#carte path[data-code="38"]').hover()
            tooltip = page.locator("#infobulle-carte")
            expect(tooltip).to_be_visible()
            expect(tooltip).to_contain_text("Isère")
            productive = percent_pattern(isere["engine_shares"]["productive"]).pattern[1:-1]
            expect(tooltip).to_contain_text(
                re.compile(f"Part de la base productive : {productive}")
            )
            page.locator('#carte path[data-code="38"]').click()
            expect(page.locator("#fiche")).to_be_visible()
            expect(page.locator("#fiche-titre")).to_have_text("Isère")
            expect(page.locator("#fiche-contenu")).to_contain_text("Atouts")
            page.locator("#fiche-fermer").click()
            page.select_option("#carte-echelle", "epci")
            expect(page.locator(f'#carte path[data-code="{metropole}"]')).to_have_attribute(
                "aria-label", re.compile(r"^Grenoble-Alpes-Métropole : ")
            )
            assert paths.count() > len(boundaries["features"])
            page.select_option("#carte-echelle", "departement")
            page.select_option("#carte-indicateur", "grants")
            expect(page.locator('#carte path[data-code="69"]')).to_have_attribute(
                "aria-label", re.compile(r"^Rhône : [\d\s\u202f\u00a0,]+ € par habitant$")
            )

            _live_transfer_shows_within_a_second(page, stack, secrets)
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
    assert problems == [], problems


def _territory_volume(api: httpx.Client, currency: str, territory: str) -> int:
    """What the stream counts for a territory: per transaction, the larger of the credits
    and the debits of the accounts of that territory (services/gateway/stream/rules.py)."""
    accounts = {
        a["id"]: a.get("territory")
        for a in _get(api, "/ledger/accounts", currency=currency, limit=500)["items"]
    }
    total = 0
    for tx in _get(api, "/ledger/transactions", currency=currency, limit=500)["items"]:
        legs = [p for p in tx["postings"] if accounts.get(p["account_id"]) == territory]
        credits = sum(p["amount"] for p in legs if p["amount"] > 0)
        debits = -sum(p["amount"] for p in legs if p["amount"] < 0)
        total += max(credits, debits)
    return total


def _live_transfer_shows_within_a_second(page: Page, stack: Stack, secrets: dict[str, str]) -> None:
    """A member pays a merchant through the gateway, on the real ledger: the open page
    counts it within a second of the ledger's answer."""
    wallet = _api(stack, seed.GONETTE_WALLET, secrets[seed.GONETTE_WALLET])
    accounts = _get(wallet, "/ledger/accounts", currency="GONETTE", limit=100)["items"]
    member = next(a for a in accounts if a["type"] == "member" and a.get("territory") == "69123")
    terminal = _api(stack, seed.GONETTE_TERMINAL, secrets[seed.GONETTE_TERMINAL])
    shops = _get(terminal, "/ledger/accounts", currency="GONETTE", limit=100)["items"]
    merchant = next(a for a in shops if a["type"] == "merchant")
    cell = page.locator('#table-monnaies tr[data-key="69123|GONETTE"] [data-col="transactions"]')
    before = int(re.sub(r"\D", "", cell.inner_text()))
    posted = wallet.post(
        "/ledger/transactions",
        json={
            "kind": "transfer",
            "postings": [
                {"account_id": member["id"], "currency": "GONETTE", "amount": -1_234},
                {"account_id": merchant["id"], "currency": "GONETTE", "amount": 1_234},
            ],
        },
        headers={"Idempotency-Key": "story-live-transfer"},
    )
    answered = time.monotonic()
    assert posted.status_code == 201, posted.text
    expect(cell).to_have_text(re.compile(f"^{before + 1}$"), timeout=15_000)
    latency = time.monotonic() - answered
    print(f"live transfer shown {latency * 1000:.0f} ms after the ledger's answer")
    # In the feed, in French with the commune's name (the aggregates it moves may follow it).
    shown = re.compile(f"Transaction \\(paiement\\) · Lyon · 12,34{SPACES}GONETTE")
    expect(page.locator("#flux li", has_text=shown)).to_have_count(1)
    assert latency <= LIVE_WITHIN_S, f"shown after {latency:.2f} s"
