"""The headless Chromium the dashboard tests drive, and the login every one of them does."""

from __future__ import annotations

from playwright.sync_api import Page, expect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
# French number formatting separates thousands with a narrow no-break space.
SPACES = "[\u00a0\u202f ]"


def login(page: Page, url: str, client_id: str, secret: str) -> None:
    page.goto(f"{url}/dashboard")
    expect(page.get_by_role("heading", name="Connexion")).to_be_visible()
    page.get_by_label("Identifiant client").fill(client_id)
    page.get_by_label("Secret").fill(secret)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("#tableau")).to_be_visible()
    expect(page.locator("#statut")).to_have_text("En direct", timeout=15_000)
