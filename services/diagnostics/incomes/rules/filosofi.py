"""Filosofi's income sources, read in INSEE's published layout, without I/O.

INSEE and the DGFiP publish Filosofi (*Fichier localisé social et fiscal*) per level
(communes, EPCI, départements, régions, zones d'emploi), one file per level and vintage,
semicolon CSV with the vintage as a two-digit suffix of every figure column::

    CODGEO;LIBGEO;NBMENFISC21;NBPERSMENFISC21;MED21;…;PACT21;PTSA21;PCHO21;PBEN21;
    PPEN21;PPAT21;PPSOC21;PPFAM21;PPMINI21;PPLOGT21;PIMPOT21;D121;D921;RD21

The shares (``P…``) are percentages of disposable income, so they cannot be summed over
communes: a level gets the figure INSEE publishes for it, never a sum of its communes'.
Columns not read here (deciles, poverty rate, the details of social benefits) are
ignored. A secret cell (``s``, ``nd``, blank) is kept unknown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from services.diagnostics.geography.rules.codes import region_code, zone_emploi_code
from services.diagnostics.imports.rules.yearly_data import SECRET, ErrorKind, RowError

FIGURES: Mapping[str, str] = MappingProxyType(
    {
        "households": "NBMENFISC",
        "persons": "NBPERSMENFISC",
        "median_eur": "MED",
        "activity_share": "PACT",
        "salaries_share": "PTSA",
        "unemployment_share": "PCHO",
        "self_employed_share": "PBEN",
        "pensions_share": "PPEN",
        "property_share": "PPAT",
        "social_benefits_share": "PPSOC",
    }
)
"""Stored figure → Filosofi's variable (without the vintage suffix)."""

LABELS: Mapping[str, str] = MappingProxyType(
    {
        "households": "Ménages fiscaux",
        "persons": "Personnes dans les ménages fiscaux",
        "median_eur": "Médiane du revenu disponible par unité de consommation (€)",
        "activity_share": "Part des revenus d'activité",
        "salaries_share": "dont traitements et salaires",
        "unemployment_share": "dont indemnités de chômage",
        "self_employed_share": "dont revenus des activités non salariées",
        "pensions_share": "Part des pensions, retraites et rentes",
        "property_share": "Part des revenus du patrimoine et autres revenus",
        "social_benefits_share": "Part des prestations sociales",
    }
)
"""French label of each figure, for the API and the report."""

LEVELS = ("commune", "epci", "departement", "region", "zone_emploi")
_SUFFIXED = re.compile(rf"(?P<name>{'|'.join(FIGURES.values())})(?P<yy>\d{{2}})")
_DECIMAL = re.compile(r"\d+(?:[.,]\d+)?")
_MAX = Decimal("1e11")


def territory_code(level: str, code: str) -> str:
    """The territory code of Filosofi's ``CODGEO`` at ``level`` (``84`` → ``R84``)."""
    if level == "region":
        return region_code(code)
    if level == "zone_emploi":
        return zone_emploi_code(code, 2020)
    return code


@dataclass(slots=True)
class Filosofi:
    """The rows a Filosofi file will write, or every reason to refuse it."""

    errors: list[RowError] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    rows_checked: int = 0
    year: int | None = None


def _cell(row: Mapping[Any, object], column: str) -> str:
    value = row.get(column)
    return "" if value is None else str(value).strip()


def _vintage(header: Sequence[str], out: Filosofi) -> str | None:
    suffixes = {m["yy"] for h in header if (m := _SUFFIXED.fullmatch(h))}
    if len(suffixes) != 1:
        found = ", ".join(sorted(suffixes)) or "aucun"
        out.errors.append(
            RowError(
                1,
                ErrorKind.MISSING_COLUMN,
                f"un seul millésime attendu par fichier (suffixes trouvés : {found})",
                "NBMENFISC",
            )
        )
        return None
    suffix = suffixes.pop()
    for variable in FIGURES.values():
        if f"{variable}{suffix}" not in header:
            out.errors.append(
                RowError(
                    1,
                    ErrorKind.MISSING_COLUMN,
                    f"colonne {variable}{suffix} absente",
                    f"{variable}{suffix}",
                )
            )
    if "CODGEO" not in header:
        out.errors.append(RowError(1, ErrorKind.MISSING_COLUMN, "colonne CODGEO absente", "CODGEO"))
    return None if out.errors else suffix


def _figure(text: str, column: str, line: int, code: str, out: Filosofi) -> Decimal | None:
    if not text or text.lower() in SECRET:
        return None
    if not _DECIMAL.fullmatch(text):
        out.errors.append(
            RowError(
                line,
                ErrorKind.INVALID_NUMBER,
                f"{column} : « {text} » n'est ni un nombre positif ni une marque de secret",
                column,
                code or None,
            )
        )
        return None
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        return None
    if value >= _MAX:
        out.errors.append(
            RowError(line, ErrorKind.INVALID_NUMBER, f"{column} : {text} hors limites", column)
        )
        return None
    return value.quantize(Decimal("0.1"))


def read_filosofi(
    header: Sequence[str],
    rows: Sequence[Mapping[Any, object]],
    *,
    level: str,
    known: Mapping[str, str],
) -> Filosofi:
    """Validate a Filosofi file of ``level`` against the known territories (code →
    level): every error with its line and INSEE's column, or the rows to store."""
    out = Filosofi()
    names = [h.strip() for h in header]
    suffix = _vintage(names, out)
    if suffix is None:
        return out
    out.year = 2000 + int(suffix)
    seen: dict[str, int] = {}
    for line, row in enumerate(rows, start=2):
        out.rows_checked += 1
        insee = _cell(row, "CODGEO")
        code = territory_code(level, insee)
        if known.get(code) != level:
            out.errors.append(
                RowError(
                    line,
                    ErrorKind.UNKNOWN_CODE,
                    f"CODGEO : « {insee} » n'est pas un territoire connu de niveau {level}",
                    "CODGEO",
                    insee or None,
                )
            )
            continue
        if code in seen:
            out.errors.append(
                RowError(
                    line,
                    ErrorKind.DUPLICATE,
                    f"CODGEO {insee} déjà présent ligne {seen[code]}",
                    "CODGEO",
                    insee,
                )
            )
            continue
        seen[code] = line
        before = len(out.errors)
        values = {
            name: _figure(
                _cell(row, f"{variable}{suffix}"), f"{variable}{suffix}", line, insee, out
            )
            for name, variable in FIGURES.items()
        }
        if len(out.errors) == before:
            out.rows.append(
                {
                    "code": code,
                    "year": out.year,
                    **values,
                    "source": f"Insee-DGFiP, Filosofi {out.year}",
                }
            )
    if out.rows_checked == 0:
        out.errors.append(RowError(None, ErrorKind.EMPTY_FILE, "le fichier n'a aucune ligne"))
    return out
