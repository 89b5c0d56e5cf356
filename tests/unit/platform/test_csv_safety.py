"""CSV cells a spreadsheet would run as formulas get a leading quote; numbers stay numbers."""

from __future__ import annotations

import csv
import io

import pytest

from shared import csv_safety


@pytest.mark.parametrize(
    "cell",
    ['=HYPERLINK("http://x")', "@SUM(A1)", "+cmd|' /C calc'!A0", "-2+3", "\t=1", "\r=1", "-"],
)
def test_a_text_cell_starting_with_a_formula_trigger_gets_a_leading_quote(cell: str) -> None:
    assert csv_safety.neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["-12.50", "-1234", "+3", "-12,34", "0", "12.5"])
def test_a_plain_number_in_text_stays_a_number(cell: str) -> None:
    assert csv_safety.neutralise(cell) == cell


@pytest.mark.parametrize("cell", [-1250, 0, None, 1.5, "café", "a=b", " =1", ""])
def test_other_cells_are_unchanged(cell: object) -> None:
    assert csv_safety.neutralise(cell) == cell


def test_the_writer_neutralises_every_row_and_still_quotes_separators() -> None:
    out = io.StringIO()
    writer = csv_safety.writer(out, lineterminator="\n")
    writer.writerow(["description", "amount"])
    writer.writerows([['=HYPERLINK("http://x"), click', -1250], ["@SUM(A1)", "-12.50"]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["description", "amount"],
        ['\'=HYPERLINK("http://x"), click', "-1250"],
        ["'@SUM(A1)", "-12.50"],
    ]
