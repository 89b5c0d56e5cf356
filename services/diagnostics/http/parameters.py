"""Path and query parameters several diagnostics routers take."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

TerritoryCode = Annotated[
    str,
    Path(
        min_length=2,
        max_length=9,
        pattern=r"^[0-9AB]+$",
        description="INSEE code (région, département, commune) or SIREN (EPCI)",
    ),
]
Year = Annotated[int, Query(ge=1950, le=2100, description="Year of the figures")]
Period = Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="ISO month")]
TerritoryFilter = Annotated[str, Query(min_length=2, max_length=9, pattern=r"^[0-9AB]+$")]
