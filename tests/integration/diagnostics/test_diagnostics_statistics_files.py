"""INSEE's statistics files (employment by commune and A38 sector, Filosofi's income
sources) imported in their published layouts on real PostgreSQL: figures carried across a
commune merger, secret cells kept unknown through every sum, and hand-computed values at
every level (fixtures: fixtures/insee/, README there)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from fractions import Fraction
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.diagnostics.app import create_app
from tests.integration.diagnostics.diagnostics_support import IMPORT_ALL, READ_ALL, settings_for
from tests.integration.diagnostics.test_diagnostics_official_files import (
    PERIMETER,
    TERRITORIES,
    YEAR_2015,
    YEAR_2019,
)
from tests.support.apps import serve

FIXTURES = Path(__file__).parent / "fixtures" / "insee"
CSV = {"Content-Type": "text/csv"}


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


async def _post(http: httpx.AsyncClient, kind: str, body: bytes, **params) -> httpx.Response:
    return await http.post(
        f"/imports/{kind}", content=body, headers={**IMPORT_ALL, **CSV}, params=params
    )


async def _get(http: httpx.AsyncClient, path: str, **params: object) -> dict:
    answer = await http.get(path, headers=READ_ALL, params=params)
    assert answer.status_code == 200, (path, answer.text)
    return answer.json()


@pytest.fixture(scope="module")
async def ain(
    migrated_database: Callable[[str], str], new_database: Callable[[str], str]
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    url = migrated_database("diagnostics")
    settings = settings_for(url, new_database("events"), run_background_tasks=False)
    async with serve(create_app, settings) as http:
        steps = [
            ("territories", TERRITORIES.encode(), {}),
            ("cog-communes", _fixture("v_commune_2025.csv"), {"geography_year": 2025}),
            ("cog-mouvements", _fixture("v_mvt_commune_2025.csv"), {}),
            ("zones-emploi-2020", _fixture("ZE2020_au_01-01-2025.csv"), {"geography_year": 2025}),
            ("epci-composition", _fixture("EPCI_au_01-01-2025.csv"), {"geography_year": 2025}),
            ("territory-years", YEAR_2015.encode(), {"geography_year": 2025}),
            ("territory-years", YEAR_2019.encode(), {"geography_year": 2025}),
            ("perimeters", PERIMETER.encode(), {}),
            ("insee-employment", _fixture("emploi_commune_A38_2015.csv"), {"geography_year": 2025}),
            ("insee-employment", _fixture("emploi_commune_A38_2019.csv"), {"geography_year": 2025}),
            ("filosofi", _fixture("FILO2021_DISP_COM.csv"), {}),
            ("filosofi", _fixture("FILO2021_DISP_DEP.csv"), {"level": "departement"}),
            ("filosofi", _fixture("FILO2021_DISP_ZE2020.csv"), {"level": "zone_emploi"}),
        ]  # fmt: skip
        for kind, body, params in steps:
            answer = await _post(http, kind, body, **params)
            assert answer.status_code == 201, (kind, answer.text)
        yield http, url


async def test_employment_sums_salaried_and_non_salaried_and_adds_insee_sectors(ain):
    http, url = ain
    listed = await http.get("/imports", headers=IMPORT_ALL, params={"limit": 100})
    imports = listed.json()["items"]
    employment = [i for i in imports if i["kind"] == "insee-employment"]
    assert [i["report"]["rows_imported"] for i in employment] == [
        10,
        10,
    ]  # 2015: 12 lines, Saint-Bois (2) merged
    engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://", 1))
    try:
        async with engine.connect() as connection:
            spheres = dict(
                (await connection.execute(text("SELECT code, sphere FROM sectors"))).all()
            )
            jobs = dict(
                (
                    await connection.execute(
                        text(
                            "SELECT code || '/' || sector, jobs FROM sector_employment "
                            "WHERE year = 2015 AND code IN ('01001', '01002', '01015')"
                        )
                    )
                ).all()
            )
    finally:
        await engine.dispose()
    # Sectors of INSEE's A38 list, with the sphere of most of their jobs.
    assert spheres == {"AZ": "productive", "GZ": "presentielle"}
    # EMPSAL + EMPNSAL; 01002's GZ has a secret salaried cell; 01015 is Arbignieu
    # (10 + 0, 8 + 2) + Saint-Bois (9 + 1, 4 + 1), merged in 2016.
    assert jobs == {
        "01001/AZ": 20,
        "01001/GZ": 100,
        "01002/AZ": 20,
        "01002/GZ": None,
        "01015/AZ": 20,
        "01015/GZ": 15,
    }


async def test_secret_cells_stay_unknown_at_every_level(ain):
    http, _ = ain
    zone_2015 = await _get(http, "/territories/ZE8401/specialisation", year=2015)
    assert zone_2015["secret_sectors"] == ["GZ"] and zone_2015["krugman"] is None
    # 2019: 01002's non-salaried AZ cell is ``nd``: the zone's and the EPCI's sums keep
    # AZ unknown (the département's own figure, published by INSEE, stays the reference).
    zone_2019 = await _get(http, "/territories/ZE8401/specialisation", year=2019)
    assert zone_2019["secret_sectors"] == ["AZ"]
    epci = await _get(http, "/territories/200029999/specialisation", year=2019)
    assert epci["secret_sectors"] == ["AZ"] and epci["krugman"] is None
    shift = await _get(http, "/territories/ZE8401/shift-share", from_year=2015, to_year=2019)
    assert shift["shift_share"] is None


async def test_merged_commune_and_zone_figures_match_the_hand_computed_ones(ain):
    http, _ = ain
    known = await _get(http, "/territories/ZE8402/specialisation", year=2019)
    # Zone: 01004 (10, 90) + 01015 (25, 25): AZ 35, GU 115; the département: AZ 85, GZ 295.
    quotients = {q["sector"]: (q["jobs"], q["quotient"]) for q in known["location_quotients"]}
    assert quotients["AZ"] == (35, pytest.approx((35 / 150) / (85 / 380)))
    assert known["krugman"] == pytest.approx(2 * 550 / (150 * 380))
    body = await _get(http, "/territories/ZE8402/shift-share", from_year=2015, to_year=2019)
    shift = body["shift_share"]
    # e0: AZ 30 (10 + 10 + 10 carried), GZ 95 (80 + 10 + 5); e1: AZ 35, GZ 115.
    growth = Fraction(380, 360) - 1
    mix = 30 * (Fraction(85, 70) - 1 - growth) + 95 * (Fraction(295, 290) - 1 - growth)
    assert shift["change"] == 25
    assert shift["industry_mix"] == pytest.approx(float(mix))
    assert shift["competitive"] == pytest.approx(float(25 - 125 * growth - mix))


async def test_a_bad_employment_file_names_its_line_and_column(ain):
    http, _ = ain
    bad = (
        b"CODGEO;LIBGEO;A38;EMPSAL21;EMPNSAL21\n01001;X;AZ;12,5;0\n01001;X;ZZ;3;0\n99999;X;GZ;3;0\n"
    )
    answer = await _post(http, "insee-employment", bad)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    errors = {(e["line"], e["column"]) for e in answer.json()["errors"]}
    assert errors == {(2, "EMPSAL21"), (3, "A38"), (4, "CODGEO")}
    two_vintages = b"CODGEO;A38;EMPSAL19;EMPNSAL21\n01001;AZ;1;1\n"
    refused = await _post(http, "insee-employment", two_vintages)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["column"] == "EMPSAL"


def _figures(body: dict) -> dict[str, float | None]:
    return {f["name"]: f["value"] for f in body["figures"]}


async def test_filosofi_figures_are_read_with_their_labels_and_vintage(ain):
    http, _ = ain
    body = await _get(http, "/territories/01001/income-sources")
    assert body["year"] == 2021 and body["source"] == "Source : Insee-DGFiP, Filosofi 2021"
    figures = _figures(body)
    assert figures == {
        "households": 330,
        "persons": 780.5,
        "median_eur": 23450,
        "activity_share": 74.2,
        "salaries_share": 67.5,
        "unemployment_share": 2.0,
        "self_employed_share": 4.7,
        "pensions_share": 26.3,
        "property_share": 11.5,
        "social_benefits_share": 5.6,
    }
    labels = {f["name"]: f["label"] for f in body["figures"]}
    assert labels["pensions_share"] == "Part des pensions, retraites et rentes"
    # The zone's file has decimal commas and is latin-1: same figures as written.
    zone = _figures(await _get(http, "/territories/ZE8402/income-sources", year=2021))
    assert zone["median_eur"] == 21080.5 and zone["persons"] == 14600.5
    assert _figures(await _get(http, "/territories/01/income-sources"))["households"] == 272431


async def test_filosofi_secret_cells_stay_unknown_and_levels_are_never_summed(ain):
    http, _ = ain
    secret = await _get(http, "/territories/01002/income-sources")
    assert _figures(secret)["households"] == 95
    assert set(secret["secret"]) == set(_figures(secret)) - {"households"}
    # Shares of income cannot be summed over communes: no EPCI file, no EPCI figure.
    missing = await http.get("/territories/200029999/income-sources", headers=READ_ALL)
    assert missing.status_code == 404
    assert missing.json()["code"] == "income-sources-not-found"
    other_year = await http.get(
        "/territories/01001/income-sources", headers=READ_ALL, params={"year": 2019}
    )
    assert other_year.status_code == 404


async def test_a_bad_filosofi_file_names_its_line_and_column(ain):
    http, _ = ain
    header = _fixture("FILO2021_DISP_COM.csv").decode().split("\n", 1)[0]
    bad = (
        header + "\n"
        "01001;X;330;780;abc;;;1;1;1;1;1;1;1;;;;;;;\n"
        "84;X;330;780;1;;;1;1;1;1;1;1;1;;;;;;;\n"
        "01004;X;330;780;1;;;1;1;1;1;-1;1;1;;;;;;;\n"
        "01004;X;330;780;1;;;1;1;1;1;1;1;1;;;;;;;\n"
    )
    answer = await _post(http, "filosofi", bad.encode())
    assert answer.status_code == 422
    errors = [(e["line"], e["column"]) for e in answer.json()["errors"]]
    assert errors == [(2, "MED21"), (3, "CODGEO"), (4, "PPEN21"), (5, "CODGEO")]
    before = _figures(await _get(http, "/territories/01001/income-sources"))
    assert before["median_eur"] == 23450  # all or nothing: nothing written
    missing = await _post(http, "filosofi", b"CODGEO;NBMENFISC21\n01001;3\n")
    assert missing.status_code == 422
    assert "MED21" in {e["column"] for e in missing.json()["errors"]}
    wrong_level = await _post(http, "filosofi", _fixture("FILO2021_DISP_DEP.csv"))
    assert wrong_level.status_code == 422
