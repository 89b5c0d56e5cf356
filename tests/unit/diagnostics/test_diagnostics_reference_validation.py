"""Territory, sector and perimeter files are checked line by line."""

from datetime import date

from services.diagnostics.imports.rules.reference_data import (
    validate_perimeters,
    validate_sectors,
    validate_territories,
)

TERRITORY_HEADER = ["insee_code", "level", "name", "parent_code"]


def _territory(code, level="commune", name="X", parent=""):
    return {"insee_code": code, "level": level, "name": name, "parent_code": parent}


def test_a_valid_territory_file_may_define_parents_after_children():
    rows = [_territory("38185", parent="38"), _territory("38", "departement", "Isère")]
    report = validate_territories(TERRITORY_HEADER, rows, known=set())
    assert report.ok and report.rows_checked == 2
    assert report.rows[0] == {"code": "38185", "level": "commune", "name": "X", "parent_code": "38"}


def test_territory_errors_are_reported_with_their_lines():
    rows = [
        _territory("38", "departement", parent="99"),  # line 2: unknown parent
        _territory("abc"),  # line 3: not a code
        _territory("38185", "planet"),  # line 4: bad level
        _territory("38", "departement"),  # line 5: duplicate
        _territory("01283", name=""),  # line 6: empty name
    ]
    report = validate_territories(TERRITORY_HEADER, rows, known={"82"})
    assert sorted((e.line, e.kind.value) for e in report.errors) == [
        (2, "unknown-code"),
        (3, "invalid-value"),
        (4, "invalid-value"),
        (5, "duplicate"),
        (6, "missing-value"),
    ]


def test_missing_columns_stop_before_the_rows():
    report = validate_territories(["insee_code", "colour"], [{"insee_code": "38"}], known=set())
    assert {(e.kind.value, e.column) for e in report.errors} == {
        ("missing-column", "level"),
        ("missing-column", "name"),
        ("unexpected-column", "colour"),
    }


def test_sector_spheres_are_checked():
    rows = [
        {"sector": "AZ", "label": "Agriculture", "sphere": "productive"},
        {"sector": "G47", "label": "Commerce", "sphere": "local"},
    ]
    report = validate_sectors(["sector", "label", "sphere"], rows)
    assert [(e.line, e.kind.value) for e in report.errors] == [(3, "invalid-value")]


PERIMETER_HEADER = [
    "perimeter_kind",
    "perimeter_code",
    "name",
    "commune_code",
    "valid_from",
    "valid_to",
]


def _line(commune, start="2015-01-01", end="", name="PNR Vercors"):
    return dict(zip(PERIMETER_HEADER, ["pnr", "VERCORS", name, commune, start, end], strict=True))


def test_perimeter_versions_group_their_communes():
    rows = [_line("38185"), _line("38421"), _line("38185", start="2020-01-01")]
    errors, versions, checked = validate_perimeters(
        PERIMETER_HEADER, rows, communes={"38185", "38421"}
    )
    assert errors == () and checked == 3
    assert [(v.valid_from, sorted(v.communes)) for v in versions] == [
        (date(2015, 1, 1), ["38185", "38421"]),
        (date(2020, 1, 1), ["38185"]),
    ]


def test_perimeter_lines_of_one_version_must_agree():
    rows = [
        _line("38185"),
        _line("38421", name="Other"),
        _line("38185"),
        _line("38185", end="2014"),
    ]
    errors, _, _ = validate_perimeters(PERIMETER_HEADER, rows, communes={"38185", "38421"})
    assert [(e.line, e.kind.value) for e in errors] == [
        (3, "invalid-value"),
        (4, "duplicate"),
        (5, "invalid-date"),
    ]
