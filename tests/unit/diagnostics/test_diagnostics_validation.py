"""Validation of import files, line by line."""

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from services.diagnostics.imports.rules.yearly_data import (
    SECTOR_EMPLOYMENT_SCHEMA,
    ErrorKind,
    ImportSchema,
    validate_table,
)

SCHEMA = ImportSchema(amount_columns=("population", "pensions_eur"))
KNOWN = {"01", "38185", "200040715"}


def check(text: str, **options):
    reader = csv.DictReader(io.StringIO(text))
    return validate_table(
        reader.fieldnames or [], reader, schema=SCHEMA, known_codes=KNOWN, **options
    )


def test_valid_file_gives_parsed_rows():
    report = check("insee_code,year,population,pensions_eur\n01,2019,652432,2735321000\n")
    assert report.ok
    (row,) = report.rows
    assert (row.line, row.code, row.year) == (2, "01", 2019)
    assert row.values == {"population": 652432, "pensions_eur": 2735321000}


def test_every_error_is_reported_with_its_line():
    report = check(
        "insee_code,year,population,pensions_eur\n"
        "01,2019,652432,100\n"  # line 2: fine
        "99999,2019,10,10\n"  # line 3: unknown code
        "38185,2019,-5,10\n"  # line 4: negative
        "38185,,10,10\n"  # line 5: missing year
        "01,2019,1,1\n"  # line 6: duplicate of line 2
        "200040715,2019,1.5,abc\n"  # line 7: two invalid numbers
        "38185,1800,1,1\n"  # line 8: year out of range
        "CDDRA-X,2019,1,1\n"  # line 9: unknown and not INSEE-shaped
    )
    found = [(e.line, e.kind) for e in report.errors]
    assert found == [
        (3, ErrorKind.UNKNOWN_CODE),
        (4, ErrorKind.NEGATIVE_AMOUNT),
        (5, ErrorKind.MISSING_VALUE),
        (6, ErrorKind.DUPLICATE),
        (7, ErrorKind.INVALID_NUMBER),
        (7, ErrorKind.INVALID_NUMBER),
        (8, ErrorKind.INVALID_YEAR),
        (9, ErrorKind.UNKNOWN_CODE),
    ]
    assert not report.ok
    assert report.rows_checked == 8
    assert "line 2" in report.errors[3].message
    assert "not shaped like" in report.errors[-1].message


def test_missing_years_are_reported_per_territory():
    report = check(
        "insee_code,year,population,pensions_eur\n01,2014,1,1\n01,2019,1,1\n38185,2019,1,1\n",
        expected_years={2014, 2019},
    )
    (error,) = report.errors
    assert (error.line, error.kind, error.code) == (None, ErrorKind.MISSING_YEAR, "38185")
    assert "2014" in error.message


def test_missing_and_unexpected_columns_stop_at_the_header():
    report = check("insee_code,year,populaton\n01,2019,1\n")
    kinds = {(e.kind, e.column) for e in report.errors}
    assert (ErrorKind.MISSING_COLUMN, "population") in kinds
    assert (ErrorKind.UNEXPECTED_COLUMN, "populaton") in kinds
    assert report.rows == ()


def test_extra_fields_are_refused():
    report = check("insee_code,year,population,pensions_eur\n01,2019,1,1,7\n")
    assert [e.kind for e in report.errors] == [ErrorKind.EXTRA_FIELDS]


def test_empty_file_is_refused():
    report = check("insee_code,year,population,pensions_eur\n")
    assert [e.kind for e in report.errors] == [ErrorKind.EMPTY_FILE]


def test_sector_rows_are_duplicates_only_for_the_same_sector():
    text = "insee_code,year,sector,jobs\n01,2019,AZ,5\n01,2019,BE,7\n01,2019,AZ,9\n"
    reader = csv.DictReader(io.StringIO(text))
    report = validate_table(
        reader.fieldnames or [], reader, schema=SECTOR_EMPLOYMENT_SCHEMA, known_codes=KNOWN
    )
    assert [(e.line, e.kind) for e in report.errors] == [(4, ErrorKind.DUPLICATE)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=-1000, max_value=1000), min_size=1, max_size=30))
def test_each_negative_amount_is_reported_on_its_own_line(amounts):
    lines = "".join(f"01,{2000 + i},{amount},0\n" for i, amount in enumerate(amounts))
    report = check("insee_code,year,population,pensions_eur\n" + lines)
    negative_lines = [i + 2 for i, amount in enumerate(amounts) if amount < 0]
    assert [e.line for e in report.errors] == negative_lines
    assert all(e.kind is ErrorKind.NEGATIVE_AMOUNT for e in report.errors)
    assert len(report.rows) == len(amounts) - len(negative_lines)


def test_json_rows_with_numbers_are_checked_like_csv_cells():
    rows = [
        {"insee_code": "01", "year": 2019, "population": 10, "pensions_eur": 5},
        {"insee_code": "01", "year": 2014, "population": 1.5, "pensions_eur": None},
    ]
    report = validate_table(
        ["insee_code", "year", "population", "pensions_eur"], rows, schema=SCHEMA, known_codes=KNOWN
    )
    assert [(e.line, e.kind, e.column) for e in report.errors] == [
        (3, ErrorKind.MISSING_VALUE, "pensions_eur"),
        (3, ErrorKind.INVALID_NUMBER, "population"),
    ]
    assert report.rows[0].values == {"population": 10, "pensions_eur": 5}
