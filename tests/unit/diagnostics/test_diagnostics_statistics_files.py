"""Pure readers of INSEE's statistics files: the NAF groupings and their sphere, the
employment file turned into jobs by sector, Filosofi's income sources."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.diagnostics.imports.rules.employment_file import named_in_file, read_employment
from services.diagnostics.imports.rules.naf import A38, a38_of_division, reference_sector
from services.diagnostics.imports.rules.yearly_data import ErrorKind, RowError
from services.diagnostics.incomes.rules.filosofi import read_filosofi, territory_code


def test_every_a88_division_belongs_to_one_a38_grouping():
    assert len(A38) == 38
    assert a38_of_division("01") == "AZ" and a38_of_division("47") == "GZ"
    assert a38_of_division("88") == "QB" and a38_of_division("99") == "UZ"
    assert a38_of_division("04") is None  # no division 04 in the NAF
    assert a38_of_division("4") is None and a38_of_division("GZ") is None


def test_wholesale_is_productive_though_commerce_is_presentiel():
    assert reference_sector("GZ") == {
        "code": "GZ",
        "label": "Commerce ; réparation d'automobiles et de motocycles",
        "sphere": "presentielle",
    }
    assert reference_sector("46")["sphere"] == "productive"  # type: ignore[index]
    assert reference_sector("47")["sphere"] == "presentielle"  # type: ignore[index]
    assert reference_sector("XX") is None


HEADER = ["CODGEO", "LIBGEO", "A38", "EMPSAL21", "EMPNSAL21"]


def _rows(*cells: tuple[str, str, str, str]) -> list[dict[object, object]]:
    return [dict(zip(("CODGEO", "A38", "EMPSAL21", "EMPNSAL21"), c, strict=True)) for c in cells]


def test_salaried_and_non_salaried_jobs_add_up_and_a_secret_cell_keeps_the_sum_unknown():
    out = read_employment(
        HEADER,
        _rows(
            ("01001", "AZ", "12", "3"),
            ("01001", "GZ", "s", "4"),
            ("01002", "GZ", "7", ""),
            ("01002", "AZ", "2", "ND"),
        ),
    )
    assert out.errors == []
    assert [(r["insee_code"], r["year"], r["sector"], r["jobs"]) for r in out.rows] == [
        ("01001", "2021", "AZ", "15"),
        ("01001", "2021", "GZ", "s"),
        ("01002", "2021", "GZ", "s"),
        ("01002", "2021", "AZ", "s"),
    ]
    assert set(out.sectors) == {"AZ", "GZ"}


def test_an_a88_file_keeps_its_divisions():
    out = read_employment(
        ["CODGEO", "A88", "EMPSAL21", "EMPNSAL21"],
        [{"CODGEO": "01001", "A88": "46", "EMPSAL21": "5", "EMPNSAL21": "1"}],
    )
    assert out.rows[0]["sector"] == "46" and out.sectors["46"]["sphere"] == "productive"


def test_employment_errors_name_the_line_and_insee_column():
    out = read_employment(HEADER, _rows(("01001", "AZ", "1,5", "0"), ("01001", "QQ", "1", "0")))
    assert [(e.line, e.column, e.kind) for e in out.errors] == [
        (2, "EMPSAL21", ErrorKind.INVALID_NUMBER),
        (3, "A38", ErrorKind.INVALID_VALUE),
    ]
    assert len(out.rows) == 2  # kept, so later checks keep the file's line numbers


@pytest.mark.parametrize(
    ("header", "column"),
    [
        (["CODGEO", "A38", "EMPSAL19", "EMPNSAL21"], "EMPSAL"),
        (["CODGEO", "A38", "EMPSAL21"], "EMPNSAL21"),
        (["CODGEO", "NA17", "EMPSAL21", "EMPNSAL21"], "A38"),
        (["LIBGEO", "A38", "EMPSAL21", "EMPNSAL21"], "CODGEO"),
    ],
)
def test_a_header_without_one_vintage_or_a_column_is_refused(header, column):
    out = read_employment(header, [])
    assert column in {e.column for e in out.errors} and out.rows == []


def test_errors_of_translated_rows_name_the_official_columns_once():
    own = [RowError(2, ErrorKind.INVALID_NUMBER, "x", "EMPSAL21")]
    later = [
        RowError(2, ErrorKind.INVALID_NUMBER, "y", "jobs"),
        RowError(3, ErrorKind.UNKNOWN_CODE, "z", "insee_code", "99999"),
    ]
    named = named_in_file(own, later, {"insee_code": "CODGEO", "jobs": "EMPSAL21"})
    assert [(e.line, e.column) for e in named] == [(2, "EMPSAL21"), (3, "CODGEO")]


FILO = [
    "CODGEO",
    "LIBGEO",
    *(
        f"{v}21"
        for v in "NBMENFISC NBPERSMENFISC MED PACT PTSA PCHO PBEN PPEN PPAT PPSOC D121".split()
    ),
]


def _filo(code: str, *values: str) -> dict[object, object]:
    return dict(zip(FILO, (code, "X", *values), strict=False))


def test_filosofi_reads_decimals_with_a_comma_or_a_point_and_keeps_secret_cells_unknown():
    known = {"01001": "commune", "01002": "commune", "R84": "region", "84": "departement"}
    out = read_filosofi(
        FILO,
        [
            _filo("01001", "330", "780,5", "23450.0", "74.2", "67.5", "2", "4.7", "26.3", "11.5"),
            _filo("01002", "95", "s", "nd", "", "s", "s", "s", "s", "s", "s"),
        ],
        level="commune",
        known=known,
    )
    assert out.errors == [] and out.year == 2021
    first, secret = out.rows
    assert first["persons"] == Decimal("780.5") and first["median_eur"] == Decimal("23450.0")
    assert first["social_benefits_share"] is None  # PPSOC21 absent from this row: blank
    assert secret["households"] == Decimal("95") and secret["median_eur"] is None
    region = read_filosofi(FILO, [_filo("84", *["1"] * 10)], level="region", known=known)
    assert region.errors == [] and region.rows[0]["code"] == "R84"


def test_filosofi_territory_codes_follow_the_level():
    assert territory_code("region", "84") == "R84"
    assert territory_code("zone_emploi", "8405") == "ZE8405"
    assert territory_code("departement", "84") == "84"


def test_a_filosofi_file_of_another_level_or_with_bad_cells_is_refused_line_by_line():
    known = {"01001": "commune", "01": "departement"}
    out = read_filosofi(
        FILO,
        [_filo("01", *["1"] * 10), _filo("01001", "1", "1", "-3", *["1"] * 7)],
        level="commune",
        known=known,
    )
    assert [(e.line, e.column) for e in out.errors] == [(2, "CODGEO"), (3, "MED21")]
    assert read_filosofi(FILO[:3], [], level="commune", known=known).errors
