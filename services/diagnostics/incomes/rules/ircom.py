"""The DGFiP's income tax by commune (IRCOM, *impôt sur le revenu par collectivité
territoriale*), read in its published layout, without I/O.

The DGFiP publishes IRCOM once a year for the incomes of year N (« revenus 2022 »): one
XLSX workbook per département (title rows, then a header whose last columns sit under
merged cells « Traitements et salaires » and « Retraites et pensions », joined here as
« Traitements et salaires - Montant ») or one CSV with the same columns. The column
names below are the DGFiP's as we know them (file ``ircom_communes_complet_revenus_2022``);
they could not be checked against a download (see the README)::

    Dép.;Commune;Libellé de la commune;Revenu fiscal de référence par tranche (en euros);
    Nombre de foyers fiscaux;Revenu fiscal de référence des foyers fiscaux;
    Impôt net (total)*;Nombre de foyers fiscaux imposés;
    Revenu fiscal de référence des foyers fiscaux imposés;
    Traitements et salaires - Nombre de foyers concernés;Traitements et salaires - Montant;
    Retraites et pensions - Nombre de foyers concernés;Retraites et pensions - Montant

``Dép.`` is the département followed by a 0 (``010`` the Ain, ``2A0`` Corse-du-Sud, ``971``
Guadeloupe) and ``Commune`` the last three digits of the INSEE code. Each commune has one
line per bracket of reference income and a ``Total`` line; only the ``Total`` lines are
stored (every line is checked). A ``Total`` line without a commune is the département's
own figure, which a diagnostic uses rather than a sum of communes with secret cells.
Amounts are in thousands of euros (stored in euros); ``n.c.`` marks a cell under
secrecy (too few tax households), kept unknown, never zero.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from services.diagnostics.imports.rules.yearly_data import ErrorKind, RowError
from services.diagnostics.incomes.rules.cells import FileRows, cell, number

DEPARTEMENT, COMMUNE, BRACKET = (
    "Dép.",
    "Commune",
    "Revenu fiscal de référence par tranche (en euros)",
)
FIGURES: Mapping[str, str] = MappingProxyType(
    {
        "tax_households": "Nombre de foyers fiscaux",
        "reference_income_eur": "Revenu fiscal de référence des foyers fiscaux",
        "net_tax_eur": "Impôt net (total)",
        "taxed_households": "Nombre de foyers fiscaux imposés",
        "taxed_reference_income_eur": "Revenu fiscal de référence des foyers fiscaux imposés",
        "salaries_households": "Traitements et salaires - Nombre de foyers concernés",
        "salaries_eur": "Traitements et salaires - Montant",
        "pensions_households": "Retraites et pensions - Nombre de foyers concernés",
        "pensions_eur": "Retraites et pensions - Montant",
    }
)
"""Stored figure → the DGFiP's column (``*`` of a footnote call and spaces ignored)."""
AMOUNTS = frozenset(name for name in FIGURES if name.endswith("_eur"))
"""Published in thousands of euros."""
_THOUSAND = Decimal(1000)
_COMMUNE = re.compile(r"\d{3}")
_DEPARTEMENT = re.compile(r"(\d{2}|2[AB])0|97[1-6]")


def normalised(name: str) -> str:
    """A column name compared without footnote stars, case or runs of spaces."""
    return " ".join(name.replace("*", " ").split()).casefold()


def _columns(header: Sequence[str], out: FileRows) -> dict[str, str] | None:
    """Stored figure (and the key columns) → the file's own spelling of its column."""
    spelled = {normalised(h): h for h in header if h}
    found: dict[str, str] = {}
    for name, column in {"dep": DEPARTEMENT, "com": COMMUNE, "bracket": BRACKET, **FIGURES}.items():
        if normalised(column) in spelled:
            found[name] = spelled[normalised(column)]
        else:
            out.errors.append(
                RowError(1, ErrorKind.MISSING_COLUMN, f"colonne « {column} » absente", column)
            )
    return None if out.errors else found


def insee_code(departement: str, commune: str) -> str | None:
    """The INSEE code of IRCOM's (``Dép.``, ``Commune``) pair (``010``, ``001`` → ``01001``),
    the département's (``01``) when the commune is blank, None when not well formed."""
    if not _DEPARTEMENT.fullmatch(departement):
        return None
    dep = departement if departement.startswith("97") else departement[:2]
    if commune == "" or commune.casefold() == "total":
        return dep
    return departement[:2] + commune if _COMMUNE.fullmatch(commune) else None


def _figures(
    row: Mapping[Any, object], columns: Mapping[str, str], line: int, code: str, out: FileRows
) -> dict[str, int | None]:
    values: dict[str, int | None] = {}
    for name in FIGURES:
        column = columns[name]
        value = number(
            cell(row, column),
            column=column,
            line=line,
            code=code,
            errors=out.errors,
            signed=name == "net_tax_eur",  # tax credits above the tax make it negative
        )
        if value is not None and name in AMOUNTS:
            value *= _THOUSAND
        values[name] = None if value is None else int(value.to_integral_value())
    return values


def read_ircom(
    header: Sequence[str],
    rows: Sequence[Mapping[Any, object]],
    *,
    year: int | None,
    known: Mapping[str, str],
) -> FileRows:
    """Validate an IRCOM file of the incomes of ``year`` against the known territories
    (code → level): every error with its line and the DGFiP's column, or the ``Total``
    rows to store (communes, and the département's own line)."""
    out = FileRows(year=year)
    if year is None:
        out.errors.append(
            RowError(
                None,
                ErrorKind.MISSING_VALUE,
                "année des revenus inconnue : paramètre year attendu (« revenus 2022 » : 2022)",
                "year",
            )
        )
    columns = _columns([h.strip() for h in header], out)
    if columns is None or year is None:
        return out
    seen: dict[str, int] = {}
    for line, row in enumerate(rows, start=2):
        out.rows_checked += 1
        dep, com = cell(row, columns["dep"]), cell(row, columns["com"])
        code = insee_code(dep, com)
        level = "commune" if code is not None and len(code) == 5 else "departement"
        if code is None or known.get(code) != level:
            out.errors.append(
                RowError(
                    line,
                    ErrorKind.UNKNOWN_CODE,
                    f"{DEPARTEMENT} « {dep} », {COMMUNE} « {com} » : territoire inconnu",
                    COMMUNE if com else DEPARTEMENT,
                    code,
                )
            )
            continue
        before = len(out.errors)
        values = _figures(row, columns, line, code, out)
        if cell(row, columns["bracket"]).casefold() != "total" or len(out.errors) > before:
            continue
        if code in seen:
            out.errors.append(
                RowError(
                    line,
                    ErrorKind.DUPLICATE,
                    f"ligne Total de {code} déjà présente ligne {seen[code]}",
                    BRACKET,
                    code,
                )
            )
            continue
        seen[code] = line
        source = f"DGFiP, IRCOM revenus {year}"
        out.rows.append({"code": code, "year": year, **values, "source": source})
    if out.rows_checked == 0:
        out.errors.append(RowError(None, ErrorKind.EMPTY_FILE, "le fichier n'a aucune ligne"))
    return out
