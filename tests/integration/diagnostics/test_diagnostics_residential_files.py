"""The DGFiP's income tax by commune (IRCOM), INSEE's tourist capacity and the census's
secondary homes imported in their published layouts on real PostgreSQL, checked against
hand-computed figures at the commune, an aggregated level (EPCI, zone d'emploi, perimeter)
and a level with its own official line (the département), with secret cells kept
unknown through every sum, and shown in the French report (fixtures: fixtures/insee/)."""

from __future__ import annotations

import io
import re

import httpx
import pytest
from openpyxl import Workbook

from tests.integration.diagnostics.diagnostics_support import IMPORT_ALL, READ_ALL
from tests.integration.diagnostics.test_diagnostics_official_files import SNAKE
from tests.integration.diagnostics.test_diagnostics_statistics_files import (
    _fixture,
    _get,
    _post,
    ain,
)

__all__ = ["ain"]  # the module's fixture: the Ain's geography, figures and Filosofi
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
async def ain_residential(ain) -> httpx.AsyncClient:
    http, _ = ain
    steps = [
        ("ircom", "ircom_communes_complet_revenus_2022_dep01.csv", {"year": 2022}),
        ("tourism-capacity", "base-cc-tourisme-2024-geo2024.csv", {}),
        ("census-housing", "base-cc-logement-2021.csv", {}),
    ]
    for kind, name, params in steps:
        answer = await _post(http, kind, _fixture(name), **params)
        assert answer.status_code == 201, (kind, answer.text)
    return http


def _values(body: dict) -> dict[str, float | None]:
    return {f["name"]: f["value"] for f in body["figures"]}


async def test_ircom_keeps_total_lines_in_euros_with_vintage_and_geography(ain_residential):
    body = await _get(ain_residential, "/territories/01001/income-tax")
    assert body["year"] == 2022 and body["basis"] == "official"
    assert body["sources"] == ["Source : DGFiP, IRCOM revenus 2022, géographie au 1er janvier 2025"]
    values = _values(body)
    # The Total line, amounts in k€ (13 500,5 k€), not the bracket line above it.
    assert values["tax_households"] == 450
    assert values["reference_income_eur"] == 13_500_500
    assert values["net_tax_eur"] == 800_000
    assert values["taxed_share"] == pytest.approx(200 / 450)
    assert values["pensions_share"] == pytest.approx(3000 / 12000)
    assert all(f["label"] and f["meaning"] and f["unit_label"] for f in body["figures"])


async def test_ircom_sums_communes_and_a_secret_cell_stays_unknown(ain_residential):
    epci = await _get(ain_residential, "/territories/200029999/income-tax")
    values = _values(epci)
    assert epci["basis"] == "communes"
    assert values["tax_households"] == 450 + 120 + 7000 + 300
    assert values["reference_income_eur"] == 224_500_500
    # 01002's net tax and taxed households are ``n.c.``: unknown, never summed as zero.
    assert values["net_tax_eur"] is None and values["taxed_share"] is None
    assert {"net_tax_eur", "taxed_share"} <= set(epci["unknown"])
    assert values["pensions_share"] == pytest.approx(45_900 / (167_000 + 45_900))
    zone = _values(await _get(ain_residential, "/territories/ZE8402/income-tax"))
    assert zone["net_tax_eur"] == 9_250_000
    assert zone["taxed_share"] == pytest.approx(3620 / 7300)  # recomputed, not averaged


async def test_the_departement_uses_its_own_line_rather_than_the_sum(ain_residential):
    body = await _get(ain_residential, "/territories/01/income-tax")
    assert body["basis"] == "official"
    assert _values(body)["net_tax_eur"] == 900_000_000
    # The région: the sum of its départements' own lines, free of 01002's secret cells.
    region = await _get(ain_residential, "/territories/R84/income-tax")
    assert region["basis"] == "parts" and _values(region)["net_tax_eur"] == 900_000_000
    assert region["basis_label"].startswith("Somme des chiffres publiés pour 1 département")
    missing = await ain_residential.get(
        "/territories/01001/income-tax", headers=READ_ALL, params={"year": 2019}
    )
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["code"] == "official-figures-not-found"


async def test_tourism_capacity_and_secondary_homes_make_tourist_beds(ain_residential):
    zone = await _get(ain_residential, "/territories/ZE8402/tourism-capacity")
    values = _values(zone)
    assert zone["year"] == 2024 and zone["basis"] == "communes"
    assert zone["sources"] == [
        "Source : Insee, capacité des communes en hébergement touristique 2024, "
        "géographie au 1er janvier 2025",
        "Source : Insee, recensement de la population 2021, géographie au 1er janvier 2025",
    ]
    # 01004 + 01015: 120 rooms, 200 pitches, 280 collective beds, 195 secondary homes.
    assert values["hotel_rooms"] == 120 and values["upscale_hotel_rooms"] == 40
    assert values["collective_beds"] == 280 and values["secondary_homes"] == 195
    assert values["tourist_beds"] == 2 * 120 + 3 * 200 + 5 * 195 + 280
    epci = _values(await _get(ain_residential, "/territories/200029999/tourism-capacity"))
    assert epci["hotel_rooms"] == 140
    assert epci["campsite_pitches"] is None and epci["tourist_beds"] is None  # 01002: s


async def test_the_report_shows_the_residential_base_with_sources(ain_residential):
    report = await _get(ain_residential, "/territories/ZE8402/report", year=2019)
    sections = {s["key"]: s for s in report["residential_base"]}
    assert sections["filosofi"]["basis"] == "official"
    assert _values(sections["filosofi"])["pensions_share"] == pytest.approx(
        _values(await _get(ain_residential, "/territories/ZE8402/income-sources"))["pensions_share"]
        / 100
    )
    tourism = _values(sections["tourism"])
    # 2 095 beds for 800 inhabitants (01004: 500, 01015: 300 in 2019).
    assert tourism["tourist_function_rate"] == pytest.approx(2095 / 800 * 100)
    assert sections["income_tax"]["year"] == 2022
    perimeter = await _get(ain_residential, "/perimeters/cddra/BUGEY-TEST/report", year=2019)
    found = {s["key"]: s for s in perimeter["residential_base"]}
    assert found["filosofi"]["basis"] == "none" and found["filosofi"]["note"]
    assert _values(found["income_tax"])["pensions_eur"] == 43_000_000  # 01001 + 01004
    page = await ain_residential.get(
        "/perimeters/cddra/BUGEY-TEST/report.html", headers=READ_ALL, params={"year": 2019}
    )
    text = re.sub(r"<[^>]+>", " ", page.text.split("</style>", 1)[1])
    assert "Base résidentielle" in text and "Taux de fonction touristique" in text
    assert "Source : DGFiP, IRCOM revenus 2022, géographie au 1er janvier 2025" in text
    assert not SNAKE.findall(text), SNAKE.findall(text)


async def test_a_bad_ircom_file_names_its_line_and_column(ain_residential):
    header = _fixture("ircom_communes_complet_revenus_2022_dep01.csv").decode("cp1252")
    header = header.split("\n", 1)[0]
    bad = (
        f"{header}\n"
        "010;001;X;Total;abc;1;1;1;1;1;1;1;1\n"
        "010;999;X;Total;1;1;1;1;1;1;1;1;1\n"
        "010;004;X;Total;1;1;-5;1;1;1;-1;1;1\n"
    )
    answer = await _post(ain_residential, "ircom", bad.encode(), year=2022)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    errors = [(e["line"], e["column"]) for e in answer.json()["errors"]]
    # A negative net tax (tax credits) is allowed; a negative salary amount is not.
    assert errors == [
        (2, "Nombre de foyers fiscaux"),
        (3, "Commune"),
        (4, "Traitements et salaires - Montant"),
    ]
    no_year = await _post(
        ain_residential, "ircom", _fixture("ircom_communes_complet_revenus_2022_dep01.csv")
    )
    assert no_year.status_code == 422 and no_year.json()["errors"][0]["column"] == "year"
    before = _values(await _get(ain_residential, "/territories/01001/income-tax"))
    assert before["tax_households"] == 450  # all or nothing


async def test_an_ircom_workbook_with_title_rows_and_merged_headers(ain_residential):
    book = Workbook()
    sheet = book.active
    sheet.append(["IMPÔT SUR LE REVENU PAR COLLECTIVITÉ TERRITORIALE"])
    sheet.append(["Revenus 2023 - Ain"])
    sheet.append([])
    top = _fixture("ircom_communes_complet_revenus_2022_dep01.csv").decode("cp1252")
    columns = top.split("\n", 1)[0].split(";")
    sheet.append([*columns[:9], "Traitements et salaires", None, "Retraites et pensions", None])
    sheet.append([None] * 9 + ["Nombre de foyers concernés", "Montant"] * 2)
    sheet.append(["010", "015", "Arboys en Bugey", "Total", 310, 8100.25, "n.c.", 120, 5000,
                  200, 6000, 100, 2100])  # fmt: skip
    body = io.BytesIO()
    book.save(body)
    answer = await ain_residential.post(
        "/imports/ircom",
        content=body.getvalue(),
        headers={**IMPORT_ALL, "Content-Type": XLSX},
        params={"year": 2023},
    )
    assert answer.status_code == 201, answer.text
    found = await _get(ain_residential, "/territories/01015/income-tax", year=2023)
    values = _values(found)
    assert values["reference_income_eur"] == 8_100_250 and values["net_tax_eur"] is None
    assert values["pensions_eur"] == 2_100_000
    # The report read before this import is not served again (every import bumps the data
    # version): the zone's latest IRCOM is now 2023, where 01004 has no line, so unknown.
    report = await _get(ain_residential, "/territories/ZE8402/report", year=2019)
    tax = next(s for s in report["residential_base"] if s["key"] == "income_tax")
    assert tax["year"] == 2023 and _values(tax)["tax_households"] is None


async def test_bad_tourism_and_census_files_name_their_line_and_column(ain_residential):
    tourism = _fixture("base-cc-tourisme-2024-geo2024.csv").decode("utf-8-sig")
    header, first = tourism.split("\n")[:2]
    bad = f"{header}\n{first.replace(';20;', ';2,5;', 1)}\n{first}\n"
    answer = await _post(ain_residential, "tourism-capacity", bad.encode())
    assert answer.status_code == 422
    assert [(e["line"], e["column"]) for e in answer.json()["errors"]] == [
        (2, "HTCH24"),
        (3, "CODGEO"),
    ]
    missing = await _post(ain_residential, "census-housing", b"CODGEO;P21_LOG\n01001;3\n")
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["column"] == "P21_RSECOCC"
