"""Path and query parameters several diagnostics routers take."""

from __future__ import annotations

from typing import Annotated, NamedTuple

from fastapi import Depends, Path, Query

TerritoryCode = Annotated[
    str,
    Path(
        min_length=2,
        max_length=9,
        pattern=r"^[0-9A-Z]+$",
        description="Commune or département INSEE code, EPCI SIREN, région R + INSEE code "
        "(R84), zone d'emploi ZE + code (2020) or ZF + code (2010)",
    ),
]
Year = Annotated[int, Query(ge=1950, le=2100, description="Year of the figures")]
LatestYear = Annotated[
    int | None,
    Query(ge=1950, le=2100, description="Year of the figures (default: the latest with data)"),
]
PerimeterCode = Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]
Period = Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="ISO month")]
TerritoryFilter = Annotated[str, Query(min_length=2, max_length=9, pattern=r"^[0-9A-Z]+$")]


class Years(NamedTuple):
    from_year: int
    to_year: int | None


def years_between(from_year: Year, to_year: LatestYear = None) -> Years:
    """The two years of a comparison (the second defaults to the latest with figures), read
    alike by the territory and perimeter forms of an endpoint."""
    return Years(from_year, to_year)


YearSpan = Annotated[Years, Depends(years_between)]
