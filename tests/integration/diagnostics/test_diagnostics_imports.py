"""Imports through the API: whole files or nothing, with a line-by-line report."""

from __future__ import annotations

import asyncio

import httpx

from shared.problems import PROBLEM_MEDIA_TYPE
from tests.integration.diagnostics.diagnostics_support import (
    ADMIN_IMPORT,
    IMPORT_ALL,
    READ_ALL,
    demo_file,
)
from tests.support.tokens import bearer
from tests.support.waiting import eventually

CSV = {"Content-Type": "text/csv"}


async def _post(client: httpx.AsyncClient, kind: str, body: str, token=IMPORT_ALL, **params):
    return await client.post(
        f"/imports/{kind}", content=body.encode(), headers={**token, **CSV}, params=params
    )


async def _load_reference(client: httpx.AsyncClient) -> None:
    territories = await _post(client, "territories", demo_file("territories.csv"))
    assert territories.status_code == 201, territories.text
    sectors = await _post(client, "sectors", demo_file("sectors.csv"), token=ADMIN_IMPORT)
    assert sectors.status_code == 201, sectors.text


async def test_importing_sectors_is_an_admin_act(client):
    await _post(client, "territories", demo_file("territories.csv"))
    refused = await _post(client, "sectors", demo_file("sectors.csv"))
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert "admin act" in refused.json()["detail"]
    listed = await client.get("/imports", headers=IMPORT_ALL)
    assert [i["kind"] for i in listed.json()["items"]] == ["territories"]  # nothing recorded
    admin = await _post(client, "sectors", demo_file("sectors.csv"), token=ADMIN_IMPORT)
    assert admin.status_code == 201, admin.text


async def test_demo_files_import_through_the_api_and_report_progress(client):
    await _load_reference(client)
    years = await _post(
        client, "territory-years", demo_file("territory_years.csv"), expected_years=[2014, 2019]
    )
    assert years.status_code == 201, years.text
    body = years.json()
    assert body["status"] == "succeeded"
    assert body["rows_done"] == body["rows_total"] == 28
    assert body["report"] == {
        "rows_checked": 28,
        "rows_imported": 28,
        "error_count": 0,
        "errors": [],
    }
    polled = await client.get(f"/imports/{body['id']}", headers=IMPORT_ALL)
    assert polled.json()["status"] == "succeeded"
    jobs = await _post(client, "sector-employment", demo_file("employment_by_sector.csv"))
    assert jobs.status_code == 201, jobs.text
    indicators = await client.get(
        "/territories/38/indicators", params={"year": 2019}, headers=READ_ALL
    )
    assert indicators.status_code == 200, indicators.text


async def test_json_rows_import_like_csv(client):
    await _load_reference(client)
    rows = [
        {"insee_code": "38", "year": 2019, "sector": "AZ", "jobs": 12},
        {"insee_code": "38", "year": 2019, "sector": "G47", "jobs": "30"},
    ]
    response = await client.post(
        "/imports/sector-employment", json={"rows": rows}, headers=IMPORT_ALL
    )
    assert response.status_code == 201, response.text
    assert response.json()["rows_done"] == 2


async def test_a_bad_file_is_refused_line_by_line_and_writes_nothing(client):
    await _load_reference(client)
    header, first, *_ = demo_file("territory_years.csv").splitlines()
    unknown = first.replace("01,2014", "99999,2014", 1)
    negative = first.replace("01,2014,631877", "07,2014,-5", 1)
    body = "\n".join([header, first, unknown, negative, first]) + "\n"
    response = await _post(client, "territory-years", body)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    problem = response.json()
    assert problem["code"] == "import-rejected"
    kinds = {(e["line"], e["kind"]) for e in problem["errors"]}
    assert kinds == {(3, "unknown-code"), (4, "negative-amount"), (5, "duplicate")}
    status = await client.get(f"/imports/{problem['import_id']}", headers=IMPORT_ALL)
    assert status.json()["status"] == "rejected"
    assert status.json()["report"]["error_count"] == 3
    # line 2 was valid, but nothing at all was written
    missing = await client.get(
        "/territories/01/indicators", params={"year": 2014}, headers=READ_ALL
    )
    assert missing.status_code == 404
    assert missing.json()["code"] == "no-data-for-year"


async def test_missing_years_and_unknown_sectors_are_reported(client):
    await _load_reference(client)
    header, first, *_ = demo_file("territory_years.csv").splitlines()
    years = await _post(
        client, "territory-years", f"{header}\n{first}\n", expected_years=[2014, 2019]
    )
    assert years.status_code == 422
    assert [e["kind"] for e in years.json()["errors"]] == ["missing-year"]
    jobs = await _post(client, "sector-employment", "insee_code,year,sector,jobs\n38,2019,ZZ,4\n")
    assert jobs.status_code == 422
    assert jobs.json()["errors"][0]["message"] == "unknown sector 'ZZ'"


async def test_territory_file_errors_are_reported(client):
    body = "insee_code,level,name,parent_code\n38,departement,Isère,82\nABC,planet,X,\n"
    response = await _post(client, "territories", body)
    assert response.status_code == 422
    errors = {(e["line"], e["kind"]) for e in response.json()["errors"]}
    assert errors == {(2, "unknown-code"), (3, "invalid-value")}
    listed = await client.get("/territories", headers=READ_ALL)
    assert listed.json()["items"] == []


async def test_unreadable_bodies_are_problems(client):
    wrong_type = await client.post(
        "/imports/territories", content=b"x", headers={**IMPORT_ALL, "Content-Type": "text/xml"}
    )
    assert wrong_type.status_code == 415
    bad_json = await client.post(
        "/imports/territories",
        content=b"{not json",
        headers={**IMPORT_ALL, "Content-Type": "application/json"},
    )
    assert bad_json.status_code == 422
    assert bad_json.json()["code"] == "unreadable-body"
    bad_utf8 = await _post(client, "territories", "")
    assert bad_utf8.status_code == 422
    latin1 = await client.post(
        "/imports/territories", content="é".encode("latin-1"), headers={**IMPORT_ALL, **CSV}
    )
    assert latin1.status_code == 422


async def test_import_needs_the_import_scope_and_the_territory(client):
    await _load_reference(client)
    anonymous = await client.post("/imports/territories", content=b"", headers=CSV)
    assert anonymous.status_code == 401
    reader = await _post(client, "territories", demo_file("territories.csv"), token=READ_ALL)
    assert reader.status_code == 403
    isere = bearer(scopes=["diagnostics:import"], tenants={"territories": ["38"]})
    outside = await _post(
        client, "sector-employment", "insee_code,year,sector,jobs\n01,2019,AZ,4\n", token=isere
    )
    assert outside.status_code == 403
    inside = await _post(
        client, "sector-employment", "insee_code,year,sector,jobs\n38,2019,AZ,4\n", token=isere
    )
    assert inside.status_code == 201


async def test_perimeters_keep_their_history(client):
    communes = (
        "insee_code,level,name,parent_code\n"
        "38185,commune,Grenoble,38\n38421,commune,Saint-Martin-d'Hères,38\n"
        "38151,commune,Échirolles,38\n38,departement,Isère,\n"
    )
    assert (await _post(client, "territories", communes)).status_code == 201
    body = (
        "perimeter_kind,perimeter_code,name,commune_code,valid_from,valid_to\n"
        "cddra,GRE,CDDRA Grenoble,38185,2010-01-01,\n"
        "cddra,GRE,CDDRA Grenoble,38421,2010-01-01,\n"
        "cddra,GRE,CDDRA Grenoble,38185,2015-01-01,\n"
        "cddra,GRE,CDDRA Grenoble,38151,2015-01-01,\n"
    )
    response = await _post(client, "perimeters", body)
    assert response.status_code == 201, response.text
    old = await client.get("/perimeters/cddra/GRE", params={"at": "2012-06-01"}, headers=READ_ALL)
    new = await client.get("/perimeters/cddra/GRE", params={"at": "2020-06-01"}, headers=READ_ALL)
    assert old.json()["communes"] == ["38185", "38421"]
    assert old.json()["valid_to"] == "2015-01-01"
    assert new.json()["communes"] == ["38151", "38185"]
    versions = await client.get("/perimeters", params={"kind": "cddra"}, headers=READ_ALL)
    assert [p["communes"] for p in versions.json()["items"]] == [2, 2]
    before = await client.get(
        "/perimeters/cddra/GRE", params={"at": "2000-01-01"}, headers=READ_ALL
    )
    assert before.status_code == 404
    bad = await _post(
        client,
        "perimeters",
        "perimeter_kind,perimeter_code,name,commune_code,valid_from,valid_to\n"
        "zone,GRE,X,38185,2010-13-01,\ncddra,GRE,X,38,2010-01-01,2009-01-01\n",
    )
    assert bad.status_code == 422
    kinds = sorted((e["line"], e["kind"]) for e in bad.json()["errors"])
    assert kinds == [
        (2, "invalid-date"),
        (2, "invalid-value"),
        (3, "invalid-date"),
        (3, "unknown-code"),
    ]


async def test_reimporting_a_year_replaces_it_and_the_indicators_follow(client):
    await _load_reference(client)
    header, first, *_ = demo_file("territory_years.csv").splitlines()
    assert (await _post(client, "territory-years", f"{header}\n{first}\n")).status_code == 201

    async def population_based_value() -> float:
        response = await client.get(
            "/territories/01/indicators", params={"year": 2014}, headers=READ_ALL
        )
        values = {i["name"]: i["value"] for i in response.json()["indicators"]}
        return values["basic_income_per_inhabitant"]

    before = await population_based_value()
    doubled = first.replace("01,2014,631877", "01,2014,1263754", 1)
    assert (await _post(client, "territory-years", f"{header}\n{doubled}\n")).status_code == 201
    assert await population_based_value() == before / 2


async def test_a_long_import_reports_its_progress_while_it_runs(client, monkeypatch):
    from services.diagnostics.imports import service as imports

    await _load_reference(client)
    assert (await _post(client, "territory-years", demo_file("territory_years.csv"))).is_success
    monkeypatch.setattr(imports, "PROGRESS_CHUNK", 50)
    written, resume = [], asyncio.Event()
    original = imports._write

    async def slow_write(session, kind, batch):
        await original(session, kind, batch)
        written.append(len(batch))
        if len(written) == 3:
            await resume.wait()  # hold the import once two chunks are reported

    monkeypatch.setattr(imports, "_write", slow_write)
    task = asyncio.create_task(
        _post(client, "sector-employment", demo_file("employment_by_sector.csv"))
    )

    async def running() -> list[dict]:
        listed = (await client.get("/imports", headers=IMPORT_ALL)).json()["items"]
        return [i for i in listed if i["status"] == "running"]

    async def sector_concentration() -> float | None:
        response = await client.get(
            "/territories/38/indicators", params={"year": 2019}, headers=READ_ALL
        )
        return {i["name"]: i["value"] for i in response.json()["indicators"]}[
            "sector_concentration"
        ]

    seen = await eventually(running, lambda items: items and items[0]["rows_done"] == 100)
    assert seen[0]["rows_total"] == 252
    # nothing the import wrote is visible to readers before it commits
    assert await sector_concentration() is None
    resume.set()
    response = await task
    assert response.status_code == 201, response.text
    assert (response.json()["rows_done"], response.json()["status"]) == (252, "succeeded")
    assert await sector_concentration() is not None
