"""INSEE's reference files in their published layouts, validated line by line.

Each reader takes the header and rows of one file (``imports/body.py`` already decoded the
semicolon or comma CSV, UTF-8 with or without BOM, or latin-1) and returns the rows to
write and every error; a file with any error is refused as a whole by the import.

Layouts (INSEE's column names, verbatim; extra columns are ignored):

* COG communes: ``TYPECOM,COM,REG,DEP,CTCD,ARR,TNCC,NCC,NCCENR,LIBELLE,CAN,COMPARENT``
* COG mouvements: ``MOD,DATE_EFF,TYPECOM_AV,COM_AV,TNCC_AV,NCC_AV,NCCENR_AV,LIBELLE_AV,
  TYPECOM_AP,COM_AP,TNCC_AP,NCC_AP,NCCENR_AP,LIBELLE_AP``
* zonage en zones d'emploi 2020: ``CODGEO,LIBGEO,ZE2020,LIBZE2020`` (+ ``DEP,REG``, …)
* zonage en zones d'emploi 2010: ``CODGEO,LIBGEO,ZE2010,LIBZE2010`` (+ ``DEP,REG``)
* composition communale des EPCI: ``CODGEO,LIBGEO,EPCI,LIBEPCI`` (+ ``DEP,REG``)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from services.diagnostics.geography.rules.codes import (
    COMMUNE_TYPES,
    region_code,
    zone_emploi_code,
)
from services.diagnostics.imports.rules.yearly_data import ErrorKind, RowError

COG_COMMUNES: tuple[str, ...] = tuple(
    "TYPECOM,COM,REG,DEP,CTCD,ARR,TNCC,NCC,NCCENR,LIBELLE,CAN,COMPARENT".split(",")
)
MOUVEMENTS: tuple[str, ...] = tuple(
    "MOD,DATE_EFF,TYPECOM_AV,COM_AV,TNCC_AV,NCC_AV,NCCENR_AV,LIBELLE_AV,"
    "TYPECOM_AP,COM_AP,TNCC_AP,NCC_AP,NCCENR_AP,LIBELLE_AP".split(",")
)
EPCI_COMPOSITION: tuple[str, str, str, str] = ("CODGEO", "LIBGEO", "EPCI", "LIBEPCI")


def zonage_columns(zoning: int) -> tuple[str, ...]:
    """The columns of the zonage en zones d'emploi ``zoning`` (2020 or 2010)."""
    return ("CODGEO", "LIBGEO", f"ZE{zoning}", f"LIBZE{zoning}")


_COMMUNE = re.compile(r"\d{5}|2[AB]\d{3}")
_DEPARTEMENT = re.compile(r"\d{2}|2[AB]|97\d")
_REGION = re.compile(r"\d{2}")
_SIREN = re.compile(r"\d{9}")
_ZONE = re.compile(r"[0-9AB]{4}")


@dataclass(slots=True)
class Parsed:
    """What one file will write, or why it is refused."""

    errors: list[RowError] = field(default_factory=list)
    rows_checked: int = 0
    territories: dict[str, dict[str, Any]] = field(default_factory=dict)
    units: list[dict[str, Any]] = field(default_factory=list)
    memberships: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    source: dict[str, Any] | None = None
    """The source the file is, for ``/sources`` (INSEE, Licence Ouverte / Etalab 2.0)."""

    @property
    def codes(self) -> set[str]:
        return {m["member_code"] for m in self.memberships} | set(self.territories)


def _text(row: Mapping[Any, object], column: str) -> str:
    value = row.get(column)
    return "" if value is None else str(value).strip()


def _header_errors(header: Sequence[str], expected: Sequence[str]) -> list[RowError]:
    present = {h.strip() for h in header}
    return [
        RowError(None, ErrorKind.MISSING_COLUMN, f"colonne {c} absente", column=c)
        for c in expected
        if c not in present
    ]


def _check(
    out: Parsed, line: int, row: Mapping[Any, object], column: str, shape: re.Pattern[str]
) -> str | None:
    value = _text(row, column)
    if not value:
        out.errors.append(RowError(line, ErrorKind.MISSING_VALUE, "valeur absente", column))
        return None
    if not shape.fullmatch(value):
        out.errors.append(
            RowError(line, ErrorKind.INVALID_VALUE, f"code {value!r} mal formé", column)
        )
        return None
    return value


LICENCE = "Licence Ouverte / Etalab 2.0 (Insee)"


def _source(out: Parsed, key: str, label: str, vintage: date | None) -> None:
    out.source = {
        "key": key,
        "label": label,
        "vintage": vintage,
        "licence": LICENCE,
        "synthetic": False,
        "details": {"rows": out.rows_checked},
    }


def _membership(
    member: str, parent: str, relation: str, vintage: date, source: str
) -> dict[str, Any]:
    return {
        "member_code": member,
        "parent_code": parent,
        "relation": relation,
        "valid_from": vintage,
        "valid_to": None,
        "source": source,
        "synthetic": False,
    }


def read_cog_communes(
    header: Sequence[str], rows: Sequence[Mapping[Any, object]], *, vintage: date
) -> Parsed:
    """The COG communes table: every row a unit keyed by (TYPECOM, COM); COM rows are the
    territories, each in its département and its région from ``vintage`` on."""
    out = Parsed(errors=_header_errors(header, COG_COMMUNES))
    if out.errors:
        return out
    source = f"Insee, COG {vintage.year}"
    seen: set[tuple[str, str]] = set()
    _source(
        out,
        f"insee-cog-{vintage.year}",
        f"Insee, Code officiel géographique {vintage.year}",
        vintage,
    )
    for line, row in enumerate(rows, start=2):
        out.rows_checked += 1
        kind = _text(row, "TYPECOM")
        if kind not in COMMUNE_TYPES:
            out.errors.append(
                RowError(line, ErrorKind.INVALID_VALUE, f"TYPECOM {kind!r} inconnu", "TYPECOM")
            )
            continue
        code = _check(out, line, row, "COM", _COMMUNE)
        name = _text(row, "LIBELLE")
        if not name:
            out.errors.append(RowError(line, ErrorKind.MISSING_VALUE, "libellé absent", "LIBELLE"))
        if code is None or not name:
            continue
        if (kind, code) in seen:
            out.errors.append(
                RowError(line, ErrorKind.DUPLICATE, f"{kind} {code} en double", "COM", code)
            )
            continue
        seen.add((kind, code))
        parent = _text(row, "COMPARENT") or None
        if kind == "COM":
            dep = _check(out, line, row, "DEP", _DEPARTEMENT)
            reg = _check(out, line, row, "REG", _REGION)
            if dep is None or reg is None:
                continue
            out.territories[code] = {
                "code": code,
                "level": "commune",
                "name": name,
                "parent_code": dep,
            }
            out.memberships.append(_membership(code, dep, "departement", vintage, source))
            out.memberships.append(_membership(code, region_code(reg), "region", vintage, source))
        elif parent is None:
            out.errors.append(
                RowError(line, ErrorKind.MISSING_VALUE, "COMPARENT absent", "COMPARENT", code)
            )
            continue
        out.units.append(
            {
                "type": kind,
                "code": code,
                "name": name,
                "parent_code": parent,
                "departement": _text(row, "DEP") or None,
                "population": None,
                "vintage": vintage,
                "source": source,
            }
        )
    return out


def read_mouvements(header: Sequence[str], rows: Sequence[Mapping[Any, object]]) -> Parsed:
    """The COG mouvements de communes: one change (merger, split, new code, new name) per
    line, with its effective date, kept as published for the passage table."""
    out = Parsed(errors=_header_errors(header, MOUVEMENTS))
    if out.errors:
        return out
    _source(out, "insee-cog-mouvements", "Insee, COG, mouvements des communes", None)
    for line, row in enumerate(rows, start=2):
        out.rows_checked += 1
        mod = _text(row, "MOD")
        if not mod.isdigit():
            out.errors.append(RowError(line, ErrorKind.INVALID_VALUE, f"MOD {mod!r}", "MOD"))
            continue
        try:
            effective = date.fromisoformat(_text(row, "DATE_EFF"))
        except ValueError:
            out.errors.append(
                RowError(line, ErrorKind.INVALID_DATE, "DATE_EFF : AAAA-MM-JJ attendu", "DATE_EFF")
            )
            continue
        before = _check(out, line, row, "COM_AV", _COMMUNE)
        after = _check(out, line, row, "COM_AP", _COMMUNE)
        types = (_text(row, "TYPECOM_AV"), _text(row, "TYPECOM_AP"))
        if any(t not in COMMUNE_TYPES for t in types):
            out.errors.append(RowError(line, ErrorKind.INVALID_VALUE, f"TYPECOM {types}", None))
            continue
        if before is None or after is None:
            continue
        out.changes.append(
            {
                "mod": int(mod),
                "effective": effective,
                "type_before": types[0],
                "code_before": before,
                "name_before": _text(row, "LIBELLE_AV"),
                "type_after": types[1],
                "code_after": after,
                "name_after": _text(row, "LIBELLE_AP"),
            }
        )
    return out


def _composition(
    header: Sequence[str],
    rows: Sequence[Mapping[Any, object]],
    *,
    columns: tuple[str, str, str, str],
    level: str,
    relation: str,
    to_code: Any,
    shape: re.Pattern[str],
    communes: Mapping[str, str],
    vintage: date,
    source: str,
) -> Parsed:
    out = Parsed(errors=_header_errors(header, columns))
    if out.errors:
        return out
    commune_column, _, parent_column, name_column = columns
    seen: set[str] = set()
    _source(out, f"insee-{relation}-{vintage.year}", source, vintage)
    for line, row in enumerate(rows, start=2):
        out.rows_checked += 1
        commune = _check(out, line, row, commune_column, _COMMUNE)
        parent = _check(out, line, row, parent_column, shape)
        name = _text(row, name_column)
        if not name:
            out.errors.append(
                RowError(line, ErrorKind.MISSING_VALUE, "libellé absent", name_column)
            )
        if commune is None or parent is None or not name:
            continue
        if communes.get(commune) != "commune":
            out.errors.append(
                RowError(line, ErrorKind.UNKNOWN_CODE, "commune inconnue", commune_column, commune)
            )
            continue
        if commune in seen:
            out.errors.append(
                RowError(line, ErrorKind.DUPLICATE, "commune en double", commune_column, commune)
            )
            continue
        seen.add(commune)
        code = to_code(parent)
        out.territories.setdefault(
            code, {"code": code, "level": level, "name": name, "parent_code": None}
        )
        out.memberships.append(_membership(commune, code, relation, vintage, source))
    return out


def read_zonage(
    header: Sequence[str],
    rows: Sequence[Mapping[Any, object]],
    *,
    zoning: int,
    communes: Mapping[str, str],
    vintage: date,
) -> Parsed:
    """The zonage en zones d'emploi ``zoning`` (2020 or 2010) on the geography of
    ``vintage``: each zone a territory, each commune a member of its zone."""
    a, b, c, d = zonage_columns(zoning)
    return _composition(
        header,
        rows,
        columns=(a, b, c, d),
        level="zone_emploi",
        relation=f"zone_emploi_{zoning}",
        to_code=lambda z: zone_emploi_code(z, zoning),
        shape=_ZONE,
        communes=communes,
        vintage=vintage,
        source=f"Insee, zonage en zones d'emploi {zoning}, géographie au 1er janvier "
        f"{vintage.year}",
    )


def read_epci_composition(
    header: Sequence[str],
    rows: Sequence[Mapping[Any, object]],
    *,
    communes: Mapping[str, str],
    vintage: date,
) -> Parsed:
    """The composition communale des EPCI: each EPCI (SIREN) a territory, each commune a
    member of its EPCI from ``vintage`` on."""
    return _composition(
        header,
        rows,
        columns=EPCI_COMPOSITION,
        level="epci",
        relation="epci",
        to_code=lambda siren: siren,
        shape=_SIREN,
        communes=communes,
        vintage=vintage,
        source=f"Insee, intercommunalités au 1er janvier {vintage.year}",
    )
