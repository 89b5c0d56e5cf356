"""The precompiled happy path of the row check must agree with the full check on every
row it accepts, and hand every other row to it: random rows mixing clean cells with every
kind of defect must give the same parsed rows and the same errors, line and column."""

from __future__ import annotations

import random

from services.diagnostics.imports.rules.clean_rows import CleanRows
from services.diagnostics.imports.rules.yearly_data import (
    SECTOR_EMPLOYMENT_SCHEMA,
    TERRITORY_YEAR_SCHEMA,
    ImportSchema,
    ParsedRow,
    RowError,
    _check_row,
)

KNOWN = frozenset({"01001", "2A004", "69", "R84", "200046977"})
CELLS = [
    "12",
    "0",
    "007",
    " 12",
    "12 ",
    "-3",
    "+4",
    "1.5",
    "",
    "  ",
    "s",
    "nd",
    " S ",
    "c",
    "secret",
    "x",
    "١٢",
    "²",
    None,
    12,
    3.5,
    True,
]
CODES = ["01001", " 01001 ", "2A004", "99999", "", None, "R84", "abc", 1001]
YEARS = ["2020", " 2020", "1900", "2200", "20x0", "", None, 2021, "٢٠٢٠"]


def _random_row(rng: random.Random, schema: ImportSchema) -> dict[object, object]:
    row: dict[object, object] = {
        schema.code_column: rng.choice(CODES),
        schema.year_column: rng.choice(YEARS),
    }
    for name in (*schema.amount_columns, *schema.optional_columns):
        if rng.random() < 0.9:
            row[name] = rng.choice(CELLS) if rng.random() < 0.3 else str(rng.randint(0, 10**6))
    for name in schema.key_columns:
        row[name] = rng.choice(["A", " B ", "", None])
    for name in schema.text_columns:
        row[name] = rng.choice(["demo", " x ", "", None, 5])
    if rng.random() < 0.05:
        row[None] = ["extra"]
    if rng.random() < 0.5:  # most rows clean, as in a real file
        row[schema.code_column] = "01001"
        row[schema.year_column] = "2020"
    return row


def _both(
    schema: ImportSchema, row: dict[object, object]
) -> tuple[ParsedRow | None, list[RowError], ParsedRow | None, list[RowError]]:
    slow_errors: list[RowError] = []
    slow = _check_row(7, row, schema=schema, known_codes=KNOWN, errors=slow_errors)
    fast_errors: list[RowError] = []
    fast = CleanRows(schema, KNOWN)(7, row) or _check_row(
        7, row, schema=schema, known_codes=KNOWN, errors=fast_errors
    )
    return slow, slow_errors, fast, fast_errors


def test_fast_path_agrees_with_the_full_check_on_random_rows() -> None:
    rng = random.Random(17)
    schemas = (
        TERRITORY_YEAR_SCHEMA,
        SECTOR_EMPLOYMENT_SCHEMA,
        ImportSchema(amount_columns=("jobs",), optional_columns=("x",), secret_columns=("x",)),
    )
    accepted = 0
    for schema in schemas:
        for _ in range(4000):
            row = _random_row(rng, schema)
            slow, slow_errors, fast, fast_errors = _both(schema, row)
            assert fast == slow, row
            assert fast_errors == slow_errors, row
            accepted += CleanRows(schema, KNOWN)(7, row) is not None
    assert accepted > 500  # the happy path is actually taken


def test_fast_path_keeps_secret_cells_unknown() -> None:
    row = {"insee_code": "69", "year": "2020", "sector": "A", "jobs": "s"}
    parsed = CleanRows(SECTOR_EMPLOYMENT_SCHEMA, KNOWN)(3, row)
    assert parsed is not None and parsed.values == {"jobs": None}
    assert CleanRows(SECTOR_EMPLOYMENT_SCHEMA, KNOWN)(3, {**row, "jobs": "-1"}) is None
