"""INSEE's communal bases read in their published layouts: one line per territory
(``CODGEO``), the vintage written into every figure's column name, without I/O.

Two layouts are read here (the column names are INSEE's as we know them; they could not
be checked against a download, see the README):

* *Capacité des communes en hébergement touristique* (file ``base-cc-tourisme-2024``,
  vintage 2024, on the geography of 1 January 2024), the vintage as a suffix::

      CODGEO;LIBGEO;HT24;HT024;…;HTCH24;HTCH024;HTCH124;HTCH224;HTCH324;HTCH424;HTCH524;
      CPG24;…;CPGE24;…;VV24;VVUH24;VVLIT24;RT24;RTUH24;RTLIT24;AJCS24;AJCSUH24;AJCSLIT24

  ``HT`` hotels, ``HTCH`` their rooms (``0`` unrated, ``1``–``5`` stars), ``CPG``
  campsites, ``CPGE`` their pitches, ``VVLIT``/``RTLIT``/``AJCSLIT`` beds of holiday
  villages, tourist residences, youth hostels and sports centres (optional columns);
* the census housing base (*logement*, file ``base-cc-logement-2021``, census 2021), the
  vintage after a ``P``: ``CODGEO;LIBGEO;P21_LOG;P21_RP;P21_RSECOCC;P21_LOGVAC`` —
  ``RSECOCC``: secondary homes and occasional dwellings, the tourist capacity no
  accommodation survey counts. Census counts are weighted estimates (decimals).

A cell under secrecy (``s``, ``nd``, blank) is kept unknown, never zero.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from services.diagnostics.geography.rules.codes import region_code, zone_emploi_code
from services.diagnostics.imports.rules.yearly_data import ErrorKind, RowError
from services.diagnostics.incomes.rules.cells import FileRows, cell, number


def territory_code(level: str, code: str) -> str:
    """The territory code of a communal base's ``CODGEO`` at ``level`` (``84`` → ``R84``)."""
    if level == "region":
        return region_code(code)
    if level == "zone_emploi":
        return zone_emploi_code(code, 2020)
    return code


@dataclass(frozen=True, slots=True)
class Layout:
    """How one communal base names its figures."""

    variables: Mapping[str, str]
    """Stored figure → INSEE's variable (without the vintage)."""
    column: Callable[[str, str], str]
    """(variable, two-digit vintage) → the column's name."""
    optional: frozenset[str]
    """Stored figures whose column may be absent from the file (then unknown)."""
    places: Decimal | None
    """None: counts (whole numbers); else decimals rounded to this quantum (``0.01``)."""
    maximum: Decimal
    """Every value stays below it (the column's capacity), else the line is refused."""
    source: str
    """The source line, ``{year}`` replaced by the vintage."""
    maxima: Mapping[str, Decimal] = field(default_factory=lambda: MappingProxyType({}))
    """A lower bound for some figures (a share's column holds less than an amount's)."""

    def pattern(self) -> re.Pattern[str]:
        names = "|".join(sorted(self.variables.values(), key=len, reverse=True))
        return re.compile(self.column(f"(?P<name>{names})", r"(?P<yy>\d{2})"))


TOURISM = Layout(
    variables=MappingProxyType(
        {
            "hotels": "HT",
            "hotel_rooms": "HTCH",
            "hotel_rooms_unrated": "HTCH0",
            "hotel_rooms_1_star": "HTCH1",
            "hotel_rooms_2_stars": "HTCH2",
            "hotel_rooms_3_stars": "HTCH3",
            "hotel_rooms_4_stars": "HTCH4",
            "hotel_rooms_5_stars": "HTCH5",
            "campsites": "CPG",
            "campsite_pitches": "CPGE",
            "holiday_village_beds": "VVLIT",
            "tourist_residence_beds": "RTLIT",
            "hostel_beds": "AJCSLIT",
        }
    ),
    column=lambda variable, yy: f"{variable}{yy}",
    optional=frozenset({"holiday_village_beds", "tourist_residence_beds", "hostel_beds"}),
    places=None,
    maximum=Decimal(2**31),
    source="Insee, capacité des communes en hébergement touristique {year}",
)

HOUSING = Layout(
    variables=MappingProxyType(
        {"dwellings": "LOG", "main_homes": "RP", "secondary_homes": "RSECOCC"}
    ),
    column=lambda variable, yy: f"P{yy}_{variable}",
    optional=frozenset({"main_homes"}),
    places=Decimal("0.01"),
    maximum=Decimal("1e11"),
    source="Insee, recensement de la population {year}",
)


def _vintage(names: Sequence[str], layout: Layout, out: FileRows) -> str | None:
    pattern = layout.pattern()
    found = {m["yy"] for h in names if (m := pattern.fullmatch(h))}
    first = next(iter(layout.variables.values()))
    if len(found) != 1:
        listed = ", ".join(sorted(found)) or "aucun"
        out.errors.append(
            RowError(
                1,
                ErrorKind.MISSING_COLUMN,
                f"un seul millésime attendu par fichier (trouvés : {listed})",
                first,
            )
        )
        return None
    yy = found.pop()
    for name, variable in layout.variables.items():
        column = layout.column(variable, yy)
        if name not in layout.optional and column not in names:
            out.errors.append(
                RowError(1, ErrorKind.MISSING_COLUMN, f"colonne {column} absente", column)
            )
    if "CODGEO" not in names:
        out.errors.append(RowError(1, ErrorKind.MISSING_COLUMN, "colonne CODGEO absente", "CODGEO"))
    return None if out.errors else yy


def _value(
    text: str, *, column: str, line: int, code: str, limit: Decimal, layout: Layout, out: FileRows
) -> Any:
    value = number(text, column=column, line=line, code=code or None, errors=out.errors)
    if value is None:
        return None
    if value >= limit:
        out.errors.append(
            RowError(
                line, ErrorKind.INVALID_NUMBER, f"{column} : {text} hors limites", column, code
            )
        )
        return None
    if layout.places is not None:
        return value.quantize(layout.places)
    if value != value.to_integral_value():
        out.errors.append(
            RowError(
                line, ErrorKind.INVALID_NUMBER, f"{column} : « {text} » n'est pas entier", column
            )
        )
        return None
    return int(value)


def read_layout(
    header: Sequence[str],
    rows: Sequence[Mapping[Any, object]],
    *,
    layout: Layout,
    level: str,
    known: Mapping[str, str],
) -> FileRows:
    """Validate a communal base of ``level`` against the known territories (code → level):
    every error with its line and INSEE's column, or the rows to store."""
    out = FileRows()
    names = [h.strip() for h in header]
    yy = _vintage(names, layout, out)
    if yy is None:
        return out
    out.year = 2000 + int(yy)
    seen: dict[str, int] = {}
    for line, row in enumerate(rows, start=2):
        out.rows_checked += 1
        insee = cell(row, "CODGEO")
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
        values = {}
        for name, variable in layout.variables.items():
            column = layout.column(variable, yy)
            values[name] = _value(
                cell(row, column),
                column=column,
                line=line,
                code=insee,
                limit=layout.maxima.get(name, layout.maximum),
                layout=layout,
                out=out,
            )
        if len(out.errors) == before:
            source = layout.source.format(year=out.year)
            out.rows.append({"code": code, "year": out.year, **values, "source": source})
    if out.rows_checked == 0:
        out.errors.append(RowError(None, ErrorKind.EMPTY_FILE, "le fichier n'a aucune ligne"))
    return out
