"""The French diagnostic report in a real headless Chromium: the page of a zone d'emploi
and of a perimeter, served over HTTP by a diagnostics service on INSEE-layout fixtures
(the geography files, the jobs by A38 sector from INSEE's employment files, with their
secret cells, the DGFiP's IRCOM and INSEE's tourist capacity), shows its French labels,
source lines and the French reason a figure is unknown, and no snake_case identifier
anywhere in the rendered text."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import uvicorn
from playwright.sync_api import sync_playwright

from services.diagnostics.app import create_app
from tests.integration.diagnostics.diagnostics_support import (
    IMPORT_ALL,
    READ_ALL,
    settings_for,
)
from tests.integration.diagnostics.test_diagnostics_official_files import (
    PERIMETER,
    TERRITORIES,
    YEAR_2015,
    YEAR_2019,
    _fixture,
)
from tests.support.ports import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")
G = {"geography_year": 2025}


@pytest.fixture(scope="module")
def service(
    migrated_database: Callable[[str], str], new_database: Callable[[str], str]
) -> Iterator[str]:
    """A diagnostics service over HTTP (uvicorn in a thread) with the fixtures imported."""
    settings = settings_for(
        migrated_database("diagnostics"), new_database("events"), run_background_tasks=False
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=60) as http:
            steps = [
                ("territories", TERRITORIES.encode(), {}, IMPORT_ALL),
                ("cog-communes", _fixture("v_commune_2025.csv"), G, IMPORT_ALL),
                ("cog-mouvements", _fixture("v_mvt_commune_2025.csv"), {}, IMPORT_ALL),
                ("zones-emploi-2020", _fixture("ZE2020_au_01-01-2025.csv"), G, IMPORT_ALL),
                ("territory-years", YEAR_2015.encode(), G, IMPORT_ALL),
                ("territory-years", YEAR_2019.encode(), G, IMPORT_ALL),
                ("insee-employment", _fixture("emploi_commune_A38_2015.csv"), G, IMPORT_ALL),
                ("insee-employment", _fixture("emploi_commune_A38_2019.csv"), G, IMPORT_ALL),
                ("perimeters", PERIMETER.encode(), {}, IMPORT_ALL),
                ("ircom", _fixture("ircom_communes_complet_revenus_2022_dep01.csv"),
                 {"year": 2022}, IMPORT_ALL),
                ("tourism-capacity", _fixture("base-cc-tourisme-2024-geo2024.csv"), {},
                 IMPORT_ALL),
                ("census-housing", _fixture("base-cc-logement-2021.csv"), {}, IMPORT_ALL),
            ]  # fmt: skip
            for kind, body, params, token in steps:
                answer = http.post(
                    f"/imports/{kind}",
                    content=body,
                    params=params,
                    headers={**token, "Content-Type": "text/csv"},
                )
                assert answer.status_code == 201, (kind, answer.text)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.mark.parametrize(
    ("path", "title", "secret"),
    [
        # 01002's non-salaried jobs in agriculture are ``nd`` in INSEE's 2019 file.
        ("/territories/ZE8401/report.html", "Zone d'essai de Bourg", "cellules secrètes (AZ)"),
        ("/perimeters/cddra/BUGEY-TEST/report.html", "CDDRA d'essai", None),
    ],
)
def test_the_french_report_shows_labels_and_no_identifier(
    service: str, path: str, title: str, secret: str | None
) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_extra_http_headers(READ_ALL)
            response = page.goto(f"{service}{path}")
            assert response is not None and response.status == 200
            assert page.locator("h1").inner_text() == title
            text = page.inner_text("body")
            assert "Source : Insee, géographie au 1er janvier 2025" in text
            assert "Revenu basique par emploi présentiel" in text
            assert "Moteurs du développement" in text
            assert "Base résidentielle : revenus des ménages et tourisme" in text
            assert "Source : DGFiP, IRCOM revenus 2022, géographie au 1er janvier 2025" in text
            assert "Taux de fonction touristique" in text
            assert secret is None or secret in text
            assert secret is not None or "cellules secrètes" not in text
            assert not SNAKE.findall(text), SNAKE.findall(text)
            svg_text = " ".join(page.locator("svg text").all_text_contents())
            assert "Moteur" in svg_text and not SNAKE.findall(svg_text)
        finally:
            browser.close()
