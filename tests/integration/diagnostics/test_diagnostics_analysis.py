"""Indicators, peers, typology, reports and roll-ups through the API, on the demo data."""

from __future__ import annotations

import csv
import io
import math

import pytest

from services.diagnostics.imports.rules.yearly_data import (
    SECTOR_EMPLOYMENT_SCHEMA,
    TERRITORY_YEAR_SCHEMA,
    territory_year_from_row,
    validate_table,
)
from services.diagnostics.indicators.rules.indicators import compute_indicators
from tests.integration.diagnostics.diagnostics_support import (
    ADMIN,
    IMPORT_ALL,
    READ_ALL,
    READ_ISERE,
    demo_file,
)
from tests.support.tokens import bearer

pytestmark = pytest.mark.asyncio(loop_scope="session")


def _table(name: str) -> tuple[list[str], list[dict]]:
    reader = csv.DictReader(io.StringIO(demo_file(name)))
    return list(reader.fieldnames or []), list(reader)


def _domain_indicators(year: int) -> dict[str, dict[str, float | None]]:
    """The same computation done directly with the domain, independently of the service."""
    territories = {row["insee_code"]: row for row in _table("territories.csv")[1]}
    years = validate_table(
        *_table("territory_years.csv"), schema=TERRITORY_YEAR_SCHEMA, known_codes=territories
    )
    jobs_report = validate_table(
        *_table("employment_by_sector.csv"),
        schema=SECTOR_EMPLOYMENT_SCHEMA,
        known_codes=territories,
    )
    jobs: dict[str, dict[str, int]] = {}
    for row in jobs_report.rows:
        if row.year == year:
            jobs.setdefault(row.code, {})[row.keys[0]] = row.values["jobs"]
    reference: dict[str, int] = {}
    for code, sectors in jobs.items():
        if territories[code]["level"] == "departement":
            for sector, n in sectors.items():
                reference[sector] = reference.get(sector, 0) + n
    out = {}
    for row in years.rows:
        if row.year != year:
            continue
        t = territory_year_from_row(row, name="", sector_jobs=jobs.get(row.code, {}))
        out[row.code] = {
            name: ind.value
            for name, ind in compute_indicators(t, reference_sectors=reference).items()
        }
    return out


async def test_indicators_match_the_domain_for_every_demo_territory(demo_client):
    expected = _domain_indicators(2014)
    assert len(expected) == 14
    for code, values in expected.items():
        response = await demo_client.get(
            f"/territories/{code}/indicators", params={"year": 2014}, headers=READ_ALL
        )
        assert response.status_code == 200, response.text
        got = {i["name"]: i["value"] for i in response.json()["indicators"]}
        assert got.keys() == values.keys()
        for name, value in values.items():
            if value is None:
                assert got[name] is None, (code, name)
            else:
                assert math.isclose(got[name], value, rel_tol=1e-12), (code, name)


async def test_indicators_carry_units_flags_and_percentiles(demo_client):
    body = (
        await demo_client.get("/territories/74/indicators", params={"year": 2014}, headers=READ_ALL)
    ).json()
    by_name = {i["name"]: i for i in body["indicators"]}
    assert by_name["income_per_proximity_job"]["unit"] == "€/job"
    assert by_name["income_per_proximity_job"]["value"] > 170_000
    assert 0 <= by_name["income_per_proximity_job"]["percentile"] <= 100
    assert by_name["currency_velocity"]["value"] is None
    assert by_name["currency_velocity"]["flag"] == "no local currency data"


async def test_typology_follows_the_rules_and_compares_with_clusters(demo_client):
    response = await demo_client.get("/typology", params={"year": 2014}, headers=READ_ALL)
    assert response.status_code == 200, response.text
    body = response.json()
    models = {row["territory"]: row["rule_model"] for row in body["items"]}
    assert models["01"] == "productive"
    assert models["07"] == "residential"
    assert models["200040715"] == "public"
    assert models["42"] == "social"
    assert models["26"] == "balanced"
    assert 0 <= body["agreement"] <= 1
    assert len(body["clusters"]) == 5
    assert set(body["disagreements"]) <= set(models)


async def test_typology_pages_cover_every_territory_once(demo_client):
    seen, cursor = [], None
    while True:
        params = {"year": 2019, "limit": 4, **({"cursor": cursor} if cursor else {})}
        page = (await demo_client.get("/typology", params=params, headers=READ_ALL)).json()
        seen += [row["territory"] for row in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(set(seen)) and len(seen) == 14


async def test_peers_and_percentiles(demo_client):
    response = await demo_client.get(
        "/territories/38/peers", params={"year": 2019, "k": 3}, headers=READ_ALL
    )
    body = response.json()
    assert len(body["peers"]) == 3
    assert "38" not in [p["territory"] for p in body["peers"]]
    distances = [p["distance"] for p in body["peers"]]
    assert distances == sorted(distances)
    assert all(0 <= p <= 100 for p in body["percentiles"].values())


async def test_report_json_and_html(demo_client):
    report = await demo_client.get(
        "/territories/74/report", params={"year": 2014}, headers=READ_ALL
    )
    body = report.json()
    assert body["typology"]["model"] == "residential"
    assert math.isclose(sum(body["engine_shares"].values()), 1.0)
    assert body["peers"] and body["source"] == "illustrative, not official"
    assert {f["kind"] for f in body["strengths"] + body["fragilities"]} <= {
        "strength",
        "fragility",
    }
    page = await demo_client.get(
        "/territories/74/report.html", params={"year": 2014}, headers=READ_ALL
    )
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Haute-Savoie" in page.text and page.text.count("<svg") == 2


async def test_rollup_sums_the_departements_of_the_region(demo_client):
    body = (
        await demo_client.get("/territories/82/rollup", params={"year": 2019}, headers=READ_ALL)
    ).json()
    assert body["members"] == ["01", "07", "26", "38", "42", "69", "73", "74"]
    expected = sum(
        int(row["population"])
        for row in _table("territory_years.csv")[1]
        if row["year"] == "2019" and len(row["insee_code"]) == 2
    )
    assert body["population"] == expected
    assert math.isclose(sum(body["engine_shares"].values()), 1.0)


async def test_territory_pages_cover_everything_without_repeats(demo_client):
    seen, cursor = [], None
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = (await demo_client.get("/territories", params=params, headers=READ_ALL)).json()
        seen += [t["code"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 15


async def test_a_client_bound_to_one_territory_sees_only_it(demo_client):
    listed = (await demo_client.get("/territories", headers=READ_ISERE)).json()
    assert [t["code"] for t in listed["items"]] == ["38"]
    own = await demo_client.get("/territories/38/report", params={"year": 2019}, headers=READ_ISERE)
    assert own.status_code == 200
    for path in ("/territories/01/indicators", "/territories/01/report", "/territories/82/rollup"):
        refused = await demo_client.get(path, params={"year": 2019}, headers=READ_ISERE)
        assert refused.status_code == 403, path
    unknown = await demo_client.get("/territories/99999", headers=READ_ISERE)
    assert unknown.status_code == 403  # no probing of what exists outside the binding
    typology = (
        await demo_client.get("/typology", params={"year": 2019}, headers=READ_ISERE)
    ).json()
    assert [row["territory"] for row in typology["items"]] == ["38"]
    no_scope = bearer(scopes=["ledger:read"], tenants={"territories": ["*"]})
    assert (await demo_client.get("/territories", headers=no_scope)).status_code == 403


async def test_bad_requests_are_problems_not_errors(demo_client):
    cases = [
        ("/territories", {"cursor": "!!!"}, 422),
        ("/territories/38/indicators", {"year": 2030}, 404),
        ("/territories/38/indicators", {"year": "x"}, 422),
        ("/territories/99999/indicators", {"year": 2019}, 404),
        ("/typology", {"year": 1990}, 404),
        ("/aggregates", {"period": "2026-13"}, 422),
    ]
    for path, params, status in cases:
        response = await demo_client.get(path, params=params, headers=READ_ALL)
        assert response.status_code == status, (path, params, response.text)
        assert response.headers["content-type"] == "application/problem+json"


async def test_loading_the_demo_twice_changes_nothing(demo_client):
    first = (await demo_client.get("/territories", headers=READ_ALL)).json()
    again = await demo_client.post("/admin/demo", headers=ADMIN)
    assert again.json() == {"territories": 15, "territory_years": 28, "sector_rows": 252}
    assert (await demo_client.get("/territories", headers=READ_ALL)).json() == first


async def test_a_perimeter_rolls_up_its_communes(demo_client):
    body = (
        "perimeter_kind,perimeter_code,name,commune_code,valid_from,valid_to\n"
        "cddra,ALPES,CDDRA test,74056,2010-01-01,\n"
        "cddra,ALPES,CDDRA test,01283,2010-01-01,\n"
    )
    created = await demo_client.post(
        "/imports/perimeters",
        content=body.encode(),
        headers={**IMPORT_ALL, "Content-Type": "text/csv"},
    )
    assert created.status_code == 201, created.text
    rollup = await demo_client.get(
        "/perimeters/cddra/ALPES/rollup", params={"year": 2019}, headers=READ_ALL
    )
    assert rollup.status_code == 200, rollup.text
    rows = {
        row["insee_code"]: int(row["population"])
        for row in _table("territory_years.csv")[1]
        if row["year"] == "2019"
    }
    assert rollup.json()["members"] == ["01283", "74056"]
    assert rollup.json()["population"] == rows["01283"] + rows["74056"]
    refused = await demo_client.get(
        "/perimeters/cddra/ALPES/rollup", params={"year": 2019}, headers=READ_ISERE
    )
    assert refused.status_code == 403
