"""Response body of the demo loader."""

from __future__ import annotations

from services.diagnostics.http.bodies import Schema


class DemoLoaded(Schema):
    territories: int
    territory_years: int
    sector_rows: int
    communes_without_population: int | None = None
    seconds: float | None = None
    phases: dict[str, float] | None = None
