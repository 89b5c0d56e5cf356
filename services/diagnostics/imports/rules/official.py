"""Which reader of INSEE's reference files a kind of import uses, on which geography."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from services.diagnostics.geography.rules.insee import (
    Parsed,
    read_cog_communes,
    read_epci_composition,
    read_mouvements,
    read_zonage,
)
from services.diagnostics.imports.rules.yearly_data import ErrorKind, RowError


def plan_official(
    kind: str,
    header: Sequence[str],
    rows: Sequence[Mapping[Any, object]],
    *,
    known: Mapping[str, str],
    year: int | None,
) -> Parsed:
    """The rows an INSEE file will write; every file but the mouvements (which date each
    change) needs the year of its geography (``?geography_year=2025``)."""
    if kind == "cog-mouvements":
        return read_mouvements(header, rows)
    if year is None:
        return Parsed(
            errors=[
                RowError(
                    None,
                    ErrorKind.MISSING_VALUE,
                    "géographie du fichier inconnue : paramètre geography_year attendu",
                    "geography_year",
                )
            ]
        )
    vintage = date(year, 1, 1)
    if kind == "cog-communes":
        return read_cog_communes(header, rows, vintage=vintage)
    if kind == "epci-composition":
        return read_epci_composition(header, rows, communes=known, vintage=vintage)
    zoning = 2020 if kind == "zones-emploi-2020" else 2010
    return read_zonage(header, rows, zoning=zoning, communes=known, vintage=vintage)
