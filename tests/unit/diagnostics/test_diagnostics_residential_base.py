"""The pure readers of the DGFiP's IRCOM and INSEE's communal bases, and the residential
base's aggregation rules: sums of stocks, ratios recomputed, secret cells unknown."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from services.diagnostics.imports.body import workbook_table
from services.diagnostics.incomes.rules.filosofi import FILOSOFI, read_filosofi
from services.diagnostics.incomes.rules.ircom import FIGURES, insee_code, read_ircom
from services.diagnostics.incomes.rules.layouts import HOUSING, TOURISM, read_layout
from services.diagnostics.incomes.rules.residential import from_sums, stocks
from services.diagnostics.incomes.rules.sections import section

KNOWN = {"01001": "commune", "01002": "commune", "2A004": "commune", "01": "departement"}
HEADER = ["Dép.", "Commune", "Revenu fiscal de référence par tranche (en euros)", *FIGURES.values()]


def _ircom_row(dep: str, com: str, bracket: str, *values: str) -> dict[str, str]:
    return dict(zip(HEADER, [dep, com, bracket, *values], strict=True))


@pytest.mark.parametrize(
    ("dep", "com", "code"),
    [("010", "001", "01001"), ("2A0", "004", "2A004"), ("971", "101", "97101"),
     ("010", "", "01"), ("971", "Total", "971"), ("01", "001", None), ("010", "1", None)],
)  # fmt: skip
def test_ircom_codes_become_insee_codes(dep, com, code):
    assert insee_code(dep, com) == code


def test_ircom_keeps_total_lines_in_euros_and_secret_cells_unknown():
    rows = [
        _ircom_row("010", "001", "0 à 10 000", *["1"] * 9),
        _ircom_row("010", "001", "Total", "450", "13 500,5", "-2", "n.c.", "", *["1"] * 4),
        _ircom_row("010", "", "Total", *["7"] * 9),
    ]
    read = read_ircom(HEADER, rows, year=2022, known=KNOWN)
    assert read.errors == []
    commune, departement = read.rows
    assert commune["code"] == "01001" and commune["reference_income_eur"] == 13_500_500
    assert commune["net_tax_eur"] == -2000  # tax credits above the tax
    assert commune["taxed_households"] is None and commune["taxed_reference_income_eur"] is None
    assert departement["code"] == "01" and departement["source"] == "DGFiP, IRCOM revenus 2022"


def test_ircom_reports_every_bad_cell_with_its_line_and_column():
    rows = [
        _ircom_row("010", "001", "Total", "abc", *["1"] * 8),
        _ircom_row("010", "003", "Total", *["1"] * 9),
        _ircom_row("010", "001", "Total", *["1"] * 9),
        _ircom_row("010", "001", "Total", *["1"] * 9),
    ]
    read = read_ircom(HEADER, rows, year=2022, known=KNOWN)
    assert [(e.line, e.column, e.kind.value) for e in read.errors] == [
        (2, "Nombre de foyers fiscaux", "invalid-number"),
        (3, "Commune", "unknown-code"),
        (5, "Revenu fiscal de référence par tranche (en euros)", "duplicate"),
    ]
    assert read_ircom(HEADER[:3], [], year=2022, known=KNOWN).errors[0].kind.value == (
        "missing-column"
    )


def test_communal_bases_read_the_vintage_from_the_columns():
    header = ["CODGEO", *(f"{v}24" for v in TOURISM.variables.values())]
    row = dict.fromkeys(header, "1") | {"CODGEO": "01001", "CPGE24": "s"}
    read = read_layout(header, [row], layout=TOURISM, level="commune", known=KNOWN)
    assert read.year == 2024 and read.rows[0]["campsite_pitches"] is None
    housing = ["CODGEO", "P21_LOG", "P21_RSECOCC"]
    homes = read_layout(
        housing,
        [{"CODGEO": "01002", "P21_LOG": "10,257", "P21_RSECOCC": "2.5"}],
        layout=HOUSING,
        level="commune",
        known=KNOWN,
    )
    assert homes.errors == [] and homes.rows[0]["main_homes"] is None
    assert homes.rows[0]["dwellings"] == Decimal("10.26")
    mixed = read_layout(
        ["CODGEO", "HT24", "HTCH23"], [], layout=TOURISM, level="commune", known=KNOWN
    )
    assert mixed.errors[0].message.startswith("un seul millésime")


def test_sums_stay_unknown_with_one_secret_cell_and_official_lines_win():
    rows = {
        "a": {"pensions_eur": 10, "salaries_eur": 30, "year": 2022, "source": "DGFiP"},
        "b": {"pensions_eur": None, "salaries_eur": 10, "year": 2022, "source": "DGFiP"},
        "own": {"pensions_eur": 5, "salaries_eur": 5, "year": 2022, "source": "DGFiP"},
    }
    names = ["pensions_eur", "salaries_eur"]
    summed = stocks(names, own=None, communes=["a", "b"], rows=rows)
    assert summed.values == {"pensions_eur": None, "salaries_eur": 40}
    assert summed.basis == "communes"
    official = stocks(names, own=rows["own"], communes=["a", "b"], rows=rows)
    assert official.basis == "official" and official.values["pensions_eur"] == 5
    parts = stocks(names, own=None, communes=["a", "b"], rows=rows, parts=["own", "a"])
    assert parts.basis == "parts" and parts.values == {"pensions_eur": 15, "salaries_eur": 35}
    missing = stocks(names, own=None, communes=["a", "c"], rows=rows)
    assert missing.values == {"pensions_eur": None, "salaries_eur": None}


def test_ratios_are_recomputed_from_the_summed_stocks():
    rows = {
        "a": {**dict.fromkeys(FIGURES, 0), "tax_households": 100, "taxed_households": 10},
        "b": {**dict.fromkeys(FIGURES, 0), "tax_households": 300, "taxed_households": 290},
    }
    found = stocks(list(FIGURES), own=None, communes=["a", "b"], rows=rows)
    body = section("income_tax", found, population=None, geography=2025)
    taxed = next(f for f in body["figures"] if f["name"] == "taxed_share")
    assert taxed["value"] == pytest.approx(300 / 400)  # not the mean of 0.1 and 0.967


def test_a_workbook_header_under_merged_cells_is_joined():
    book = Workbook()
    sheet = book.active
    sheet.append(["IMPÔT SUR LE REVENU PAR COLLECTIVITÉ TERRITORIALE"])
    sheet.append(["Dép.", "Commune", "Retraites et pensions", None])
    sheet.append([None, None, "Nombre de foyers concernés", "Montant"])
    sheet.append(["010", "001", 3, 4.5])
    body = io.BytesIO()
    book.save(body)
    header, rows = workbook_table(body.getvalue(), None)
    assert header == [
        "Dép.",
        "Commune",
        "Retraites et pensions - Nombre de foyers concernés",
        "Retraites et pensions - Montant",
    ]
    assert rows == [dict(zip(header, ["010", "001", "3", "4.5"], strict=True))]


def test_database_sums_are_known_only_when_every_commune_has_a_known_cell():
    sums = {
        "year": 2022,
        "lines": 3,
        "geography_year": 2025,
        "source": "DGFiP, IRCOM revenus 2022",
        "known": {"pensions_eur": 2, "salaries_eur": 3},
        "sums": {"pensions_eur": 10, "salaries_eur": 40},
    }
    names = ["pensions_eur", "salaries_eur"]
    found = from_sums(names, {**sums, "communes": 3})
    assert found.values == {"pensions_eur": None, "salaries_eur": 40}
    assert found.basis == "communes" and found.year == 2022
    assert from_sums(names, {**sums, "communes": 4}).values == {
        "pensions_eur": None,
        "salaries_eur": None,
    }
    assert from_sums(names, None).basis == "none"


def test_a_value_beyond_its_column_is_refused_on_its_line_not_by_the_database():
    header = ["CODGEO", *(f"{v}24" for v in TOURISM.variables.values())]
    row = dict.fromkeys(header, "1") | {"CODGEO": "01001", "HTCH24": "3000000000"}
    read = read_layout(header, [row], layout=TOURISM, level="commune", known=KNOWN)
    assert [(e.line, e.column) for e in read.errors] == [(2, "HTCH24")]
    filosofi = ["CODGEO", *(f"{v}21" for v in FILOSOFI.variables.values())]
    share = dict.fromkeys(filosofi, "1") | {"CODGEO": "01001", "PPEN21": "123456"}
    refused = read_filosofi(filosofi, [share], level="commune", known=KNOWN)
    assert [(e.line, e.column) for e in refused.errors] == [(2, "PPEN21")]
