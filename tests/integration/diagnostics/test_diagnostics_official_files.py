"""INSEE's reference files in their published layouts, figures carried across a commune
merger, secret cells kept unknown, and the whole diagnostic of every level and perimeter
checked against hand-computed values (fixtures: fixtures/insee/, README there)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from fractions import Fraction
from pathlib import Path

import httpx
import pytest

from services.diagnostics.app import create_app
from tests.integration.diagnostics.diagnostics_support import (
    ADMIN_IMPORT,
    IMPORT_ALL,
    READ_ALL,
    settings_for,
)
from tests.support.apps import serve

FIXTURES = Path(__file__).parent / "fixtures" / "insee"
CSV = {"Content-Type": "text/csv"}
FIGURES = (
    "insee_code,year,population,productive_wages_eur,productive_self_employed_eur,"
    "pensions_eur,commuter_wages_eur,tourism_spending_eur,property_income_eur,"
    "public_wages_eur,social_transfers_eur,jobs_presentielle,jobs_productive,"
    "consumption_potential_eur,local_spending_eur,source\n"
)
# 2015, on the geography of 2015: Arbignieu (01015) and Saint-Bois (01340) not yet merged.
YEAR_2015 = FIGURES + (
    "01001,2015,780,3000000,0,1000000,0,0,0,500000,500000,100,50,4000000,2000000,test\n"
    "01002,2015,200,2000000,0,2000000,0,0,0,500000,500000,100,50,,,test\n"
    "01004,2015,500,1000000,0,1000000,0,0,0,1000000,1000000,80,20,,,test\n"
    "01015,2015,150,400000,0,500000,0,0,0,500000,500000,10,10,,,test\n"
    "01340,2015,100,600000,0,500000,0,0,0,500000,500000,10,15,,,test\n"
)
YEAR_2019 = FIGURES + (
    "01001,2019,800,3000000,0,1000000,0,0,0,500000,500000,100,50,4000000,2000000,test\n"
    "01002,2019,200,2000000,0,2000000,0,0,0,500000,500000,100,50,,,test\n"
    "01004,2019,500,1000000,0,1000000,0,0,0,1000000,1000000,80,20,,,test\n"
    "01015,2019,300,1000000,0,1000000,0,0,0,1000000,1000000,20,30,,,test\n"
)
# Jobs by sector; ``s`` is INSEE's secret marker. The département's own figures (as INSEE
# publishes them, free of the communes' secrets) serve as the reference.
JOBS = "insee_code,year,sector,jobs\n" + "".join(
    f"{code},{year},{sector},{jobs}\n"
    for code, year, sector, jobs in [
        ("01001", 2015, "AZ", 20), ("01001", 2015, "GU", 100),
        ("01002", 2015, "AZ", 20), ("01002", 2015, "GU", "s"),
        ("01004", 2015, "AZ", 10), ("01004", 2015, "GU", 80),
        ("01015", 2015, "AZ", 10), ("01015", 2015, "GU", 10),
        ("01340", 2015, "AZ", 10), ("01340", 2015, "GU", 5),
        ("01001", 2019, "AZ", 30), ("01001", 2019, "GU", 120),
        ("01002", 2019, "AZ", 20), ("01002", 2019, "GU", 60),
        ("01004", 2019, "AZ", 10), ("01004", 2019, "GU", 90),
        ("01015", 2019, "AZ", 25), ("01015", 2019, "GU", 25),
        ("01", 2015, "AZ", 70), ("01", 2015, "GU", 290),
        ("01", 2019, "AZ", 85), ("01", 2019, "GU", 295),
    ]
)  # fmt: skip
TERRITORIES = (
    "insee_code,level,name,parent_code\nR84,region,Auvergne-Rhône-Alpes,\n01,departement,Ain,R84\n"
)
SECTORS = "sector,label,sphere\nAZ,Agriculture,productive\nGU,Commerce et services,presentielle\n"
PERIMETER = (
    "perimeter_kind,perimeter_code,name,commune_code,valid_from\n"
    "cddra,BUGEY-TEST,CDDRA d'essai,01001,2010-01-01\n"
    "cddra,BUGEY-TEST,CDDRA d'essai,01004,2010-01-01\n"
)


async def _post(
    http: httpx.AsyncClient, kind: str, body: bytes, token: dict[str, str] = IMPORT_ALL, **params
) -> httpx.Response:
    return await http.post(
        f"/imports/{kind}", content=body, headers={**token, **CSV}, params=params
    )


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture(scope="module")
async def ain(
    migrated_database: Callable[[str], str], new_database: Callable[[str], str]
) -> AsyncIterator[httpx.AsyncClient]:
    settings = settings_for(
        migrated_database("diagnostics"), new_database("events"), run_background_tasks=False
    )
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
        ]  # fmt: skip
        sectors = await _post(http, "sectors", SECTORS.encode(), token=ADMIN_IMPORT)
        assert sectors.status_code == 201, sectors.text
        for kind, body, params in steps:
            answer = await _post(http, kind, body, **params)
            assert answer.status_code == 201, (kind, answer.text)
        jobs = await _post(http, "sector-employment", JOBS.encode(), geography_year=2025)
        assert jobs.status_code == 201, jobs.text
        yield http


async def _get(http: httpx.AsyncClient, path: str, **params: object) -> dict:
    answer = await http.get(path, headers=READ_ALL, params=params)
    assert answer.status_code == 200, (path, answer.text)
    return answer.json()


def _values(body: dict) -> dict[str, float | None]:
    return {i["name"]: i["value"] for i in body["indicators"]}


async def test_the_cog_keys_rows_by_type_and_code_and_zones_are_new_territories(ain):
    commune = await _get(ain, "/territories/01015")
    assert commune["name"] == "Arboys en Bugey" and commune["level"] == "commune"
    # Saint-Bois (COMD 01340) is a part of the commune, never a territory of its own.
    assert (await ain.get("/territories/01340", headers=READ_ALL)).status_code == 404
    zone = await _get(ain, "/territories/ZE8402")
    assert zone == {**zone, "level": "zone_emploi", "name": "Zone d'essai du Bugey"}
    parents = {
        m["relation"]: m["parent_code"]
        for m in (await _get(ain, "/territories/01015/memberships"))["items"]
    }
    assert parents == {
        "departement": "01",
        "region": "R84",
        "zone_emploi_2020": "ZE8402",
        "epci": "200029999",
    }


async def test_figures_are_carried_across_the_merger_and_summed(ain):
    carried = _values(await _get(ain, "/territories/01015/indicators", year=2015))
    # Arbignieu + Saint-Bois, on the commune nouvelle: (0.4 + 0.6) + 1 + 1 + 1 M€.
    assert carried["basic_income"] == 4_000_000
    zone = await _get(ain, "/territories/ZE8402/indicators", year=2015)
    values = _values(zone)
    # 01004 + (01015 + 01340): RB = 4,000,000 + 4,000,000; jobs présentiels 80 + 20.
    assert values["basic_income"] == 8_000_000
    assert values["income_per_proximity_job"] == 80_000
    assert zone["level"] == "zone_emploi"


async def test_every_level_sums_stocks_and_recomputes_ratios(ain):
    zone = _values(await _get(ain, "/territories/ZE8401/indicators", year=2019))
    # 01001 + 01002: productive 5 M€, residential 3 M€, public 1 M€, social 1 M€.
    assert zone["basic_income"] == 10_000_000
    assert zone["share_productive"] == pytest.approx(0.5)
    assert zone["share_residential"] == pytest.approx(0.3)
    assert zone["basic_income_per_inhabitant"] == pytest.approx(10_000_000 / 1000)
    assert zone["presentielle_share"] == pytest.approx(200 / 300)
    # 01002 has no consumption figure: the zone's retention is unknown, not 01001's.
    assert zone["retention_rate"] is None
    departement = _values(await _get(ain, "/territories/01/indicators", year=2019))
    assert departement["basic_income"] == 18_000_000
    region = _values(await _get(ain, "/territories/R84/indicators"))  # latest year: 2019
    assert region["basic_income_per_inhabitant"] == pytest.approx(18_000_000 / 1800)
    epci = _values(await _get(ain, "/territories/200029999/indicators", year=2019))
    assert epci["basic_income"] == 18_000_000
    perimeter = await _get(ain, "/perimeters/cddra/BUGEY-TEST/indicators", year=2019)
    # 01001 + 01004: RB 5 M€ + 4 M€, 1,300 inhabitants.
    assert _values(perimeter)["basic_income_per_inhabitant"] == pytest.approx(9_000_000 / 1300)


async def test_secret_cells_stay_unknown_and_specialisation_uses_the_official_reference(ain):
    secret = await _get(ain, "/territories/ZE8401/specialisation", year=2015)
    assert secret["secret_sectors"] == ["GU"] and secret["krugman"] is None
    rows = (await _get(ain, "/territories/ZE8401/indicators", year=2015))["indicators"]
    krugman = next(i for i in rows if i["name"] == "krugman_specialisation")
    assert krugman["value"] is None and krugman["flag_label"] == "cellules secrètes (GU)"
    retention = next(i for i in rows if i["name"] == "retention_rate")
    assert retention["flag_label"] == "consommation des habitants inconnue"
    known = await _get(ain, "/territories/ZE8402/specialisation", year=2019)
    # Zone: AZ 35, GU 115 (150); reference (the département, official): AZ 85, GU 295 (380).
    assert known["krugman"] == pytest.approx(2 * 550 / (150 * 380))
    quotients = {q["sector"]: q["quotient"] for q in known["location_quotients"]}
    assert quotients["AZ"] == pytest.approx((35 / 150) / (85 / 380))


async def test_shift_share_between_two_years_on_one_geography(ain):
    body = await _get(ain, "/territories/ZE8402/shift-share", from_year=2015, to_year=2019)
    shift = body["shift_share"]
    # e0: AZ 30 (10 + 10 + 10 carried), GU 95; e1: AZ 35, GU 115; N0 360, N1 380.
    growth = Fraction(380, 360) - 1
    mix = 30 * (Fraction(85, 70) - 1 - growth) + 95 * (Fraction(295, 290) - 1 - growth)
    assert shift["change"] == 25
    assert shift["reference_growth"] == pytest.approx(float(125 * growth))
    assert shift["industry_mix"] == pytest.approx(float(mix))
    assert shift["competitive"] == pytest.approx(float(25 - 125 * growth - mix))


async def test_peers_are_of_the_same_level_and_the_year_defaults_to_the_latest(ain):
    peers = await _get(ain, "/territories/ZE8401/peers")
    assert peers["year"] == 2019 and peers["level"] == "zone_emploi"
    assert [p["territory"] for p in peers["peers"]] == ["ZE8402"]


SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


@pytest.mark.parametrize(
    "path",
    [
        "/territories/R84",
        "/territories/01",
        "/territories/ZE8401",
        "/territories/200029999",
        "/territories/01015",
        "/perimeters/cddra/BUGEY-TEST",
    ],
)
async def test_every_level_and_perimeter_answers_the_whole_diagnostic_in_french(ain, path):
    report = await _get(ain, f"{path}/report")
    assert report["year"] == 2019
    assert report["geography"] == "Source : Insee, géographie au 1er janvier 2025"
    assert report["comparison"]["from_year"] == 2015
    assert all(i["label"] and i["meaning"] for i in report["indicators"])
    await _get(ain, f"{path}/indicators")
    await _get(ain, f"{path}/peers")
    page = await ain.get(f"{path}/report.html", headers=READ_ALL)
    assert page.status_code == 200
    text = re.sub(r"<[^>]+>", " ", page.text.split("</style>", 1)[1])
    assert "Source : Insee, géographie au 1er janvier 2025" in text
    assert not SNAKE.findall(text), SNAKE.findall(text)
    typology = await _get(ain, "/typology")
    assert typology["year"] == 2019


async def test_a_split_commune_refuses_its_earlier_figures(ain):
    split = (
        "MOD,DATE_EFF,TYPECOM_AV,COM_AV,TNCC_AV,NCC_AV,NCCENR_AV,LIBELLE_AV,TYPECOM_AP,"
        "COM_AP,TNCC_AP,NCC_AP,NCCENR_AP,LIBELLE_AP\n"
        "21,2018-01-01,COM,01002,5,ABERGEMENT DE VAREY,Abergement-de-Varey,"
        "L'Abergement-de-Varey,COM,01001,5,ABERGEMENT CLEMENCIAT,Abergement-Clémenciat,"
        "L'Abergement-Clémenciat\n"
    )
    assert (await _post(ain, "cog-mouvements", split.encode())).status_code == 201
    refused = await _post(ain, "territory-years", YEAR_2015.encode(), geography_year=2025)
    assert refused.status_code == 422
    lines = {(e["line"], e["code"]) for e in refused.json()["errors"]}
    assert lines == {(2, "01001"), (3, "01002")}


async def test_a_file_missing_an_insee_column_is_refused_line_by_line(ain):
    broken = b"CODGEO;LIBGEO;ZE2020\n01001;X;8401\n"
    answer = await _post(ain, "zones-emploi-2020", broken, geography_year=2025)
    assert answer.status_code == 422
    assert [e["column"] for e in answer.json()["errors"]] == ["LIBZE2020"]
    no_year = await _post(ain, "epci-composition", _fixture("EPCI_au_01-01-2025.csv"))
    assert no_year.status_code == 422


async def test_exports_open_in_a_french_spreadsheet(ain):
    answer = await ain.get(
        "/territories/ZE8401/indicators.csv",
        headers=READ_ALL,
        params={"year": 2019, "dialect": "fr"},
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith(b"\xef\xbb\xbf")  # BOM
    lines = answer.content.decode("utf-8-sig").splitlines()
    assert lines[0] == (
        "Territoire;Année;Indicateur;Valeur;Unité;Rang centile;Signification;Source"
    )
    assert lines[1].endswith("Source : Insee, géographie au 1er janvier 2025")
    share = next(line for line in lines if ";Part du moteur productif;" in line)
    assert ";0,5;" in share  # decimal comma
    standard = await ain.get(
        "/territories/ZE8401/indicators.csv", headers=READ_ALL, params={"year": 2019}
    )
    assert not standard.content.startswith(b"\xef\xbb\xbf")
    assert ",Part du moteur productif,0.5," in standard.text
    shift = await ain.get(
        "/territories/ZE8402/shift-share.csv",
        headers=READ_ALL,
        params={"from_year": 2015, "to_year": 2019, "dialect": "fr"},
    )
    assert shift.text.splitlines()[0].endswith(";Effet local;Source")
    assert shift.text.splitlines()[-1].startswith("Total;25")
    assert "Source : Insee, géographie au 1er janvier 2025" in shift.text.splitlines()[-1]
    typology = await ain.get("/typology.csv", headers=READ_ALL, params={"level": "zone_emploi"})
    rows = typology.text.splitlines()
    assert rows[0].startswith("Code,Territoire,Niveau")
    assert rows[0].endswith(",Source")
    assert {r.split(",")[0] for r in rows[1:]} == {"ZE8401", "ZE8402"}
    assert all("géographie au 1er janvier 2025" in r for r in rows[1:])
    peers = await ain.get("/territories/ZE8401/peers.csv", headers=READ_ALL)
    assert peers.text.splitlines()[0] == "Territoire,Année,Pair,Distance,Source"
    assert peers.text.splitlines()[1].startswith("ZE8401,2019,ZE8402,")
    assert "Source : Insee, géographie au 1er janvier 2025" in peers.text.splitlines()[1]


async def test_an_exported_name_is_never_a_formula(ain):
    body = 'insee_code,level,name,parent_code\n01004,commune,=HYPERLINK("x"),01\n'
    renamed = await _post(ain, "territories", body.encode())
    assert renamed.status_code == 201, renamed.text
    typology = await ain.get("/typology.csv", headers=READ_ALL, params={"level": "commune"})
    assert "'=HYPERLINK" in typology.text
    restore = "insee_code,level,name,parent_code\n01004,commune,Ambérieu-en-Bugey,01\n"
    assert (await _post(ain, "territories", restore.encode())).status_code == 201


async def test_xlsx_exports_write_text_never_formulas(ain):
    from io import BytesIO

    from openpyxl import load_workbook

    body = "insee_code,level,name,parent_code\n01004,commune,=1+1,01\n"
    assert (await _post(ain, "territories", body.encode())).status_code == 201
    answer = await ain.get("/typology.xlsx", headers=READ_ALL, params={"level": "commune"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(answer.content)).active
    cells = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    assert cells["01004"][1].value == "=1+1" and cells["01004"][1].data_type == "s"
    indicators = await ain.get(
        "/territories/ZE8401/indicators.xlsx", headers=READ_ALL, params={"year": 2019}
    )
    rows = list(load_workbook(BytesIO(indicators.content)).active.iter_rows(values_only=True))
    assert rows[0][2] == "Indicateur"
    share = next(r for r in rows if r[2] == "Part du moteur productif")
    assert share[3] == pytest.approx(0.5)  # a number, not text
    assert (await ain.get("/typology.ods", headers=READ_ALL)).status_code == 422
    restore = "insee_code,level,name,parent_code\n01004,commune,Ambérieu-en-Bugey,01\n"
    assert (await _post(ain, "territories", restore.encode())).status_code == 201


def _insee_workbook() -> bytes:
    """A workbook shaped like INSEE's zonage files: a first sheet listing the zones, then
    the composition sheet opening with title and note rows before its header."""
    from io import BytesIO

    from openpyxl import Workbook

    book = Workbook()
    listing = book.active
    listing.title = "Liste des ZE2010"
    listing.append(["Zonage en zones d'emploi 2010 - liste des zones"])
    book_sheet = book.create_sheet("Composition_communale")
    for title in (
        ["Zonage en zones d'emploi 2010"],
        ["Découpage de la France en zones d'emploi au 1er janvier 2025"],
        [],
        ["Source : Insee"],
        [],
    ):
        book_sheet.append(title)
    book_sheet.append(["CODGEO", "LIBGEO", "ZE2010", "LIBZE2010", "DEP", "REG"])
    for code in ("01001", "01002", "01004", "01015"):
        book_sheet.append([code, "x", "8201", "Bourg-en-Bresse (essai)", "01", 84])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


async def test_an_insee_workbook_is_read_past_its_title_rows(ain):
    xlsx = {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    answer = await ain.post(
        "/imports/zones-emploi-2010",
        content=_insee_workbook(),
        headers={**IMPORT_ALL, **xlsx},
        params={"geography_year": 2025, "sheet": "Composition_communale"},
    )
    assert answer.status_code == 201, answer.text
    parents = {
        m["relation"]: m["parent_code"]
        for m in (await _get(ain, "/territories/01001/memberships"))["items"]
    }
    assert parents["zone_emploi_2010"] == "ZF8201"
    assert parents["zone_emploi_2020"] == "ZE8401"  # both zonings at once
    first_sheet = await ain.post(
        "/imports/zones-emploi-2010",
        content=_insee_workbook(),
        headers={**IMPORT_ALL, **xlsx},
        params={"geography_year": 2025},
    )
    assert first_sheet.status_code == 422  # the list of zones has no header row
    not_a_workbook = await ain.post(
        "/imports/zones-emploi-2010", content=b"PK\x03\x04junk", headers={**IMPORT_ALL, **xlsx}
    )
    assert not_a_workbook.status_code == 422
    assert not_a_workbook.json()["code"] == "unreadable-body"
