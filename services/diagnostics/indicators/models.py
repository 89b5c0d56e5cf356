"""The tables indicators are computed from: sectors, yearly figures, jobs by sector, and
the version that keys the cache of computed years.

Amounts are whole euros, always ``BigInteger``; CHECK constraints refuse negative figures
whatever the path.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.diagnostics.database import Base
from services.diagnostics.indicators.rules.indicators import FIGURE_COLUMNS


def _euros(nullable: bool = False) -> Mapped[Any]:
    return mapped_column(BigInteger, nullable=nullable)


class Sector(Base):
    """A NAF grouping with the INSEE sphere most of its jobs belong to."""

    __tablename__ = "sectors"
    __table_args__ = (CheckConstraint("sphere IN ('presentielle', 'productive')", name="sphere"),)

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    label: Mapped[str] = mapped_column(String(200), nullable=False)
    sphere: Mapped[str] = mapped_column(String(20), nullable=False)


class TerritoryYearRow(Base):
    """Structural figures of one territory for one year (whole euros, jobs, inhabitants)."""

    __tablename__ = "territory_years"
    __table_args__ = (
        *(CheckConstraint(f"{c} >= 0", name=f"{c}_non_negative") for c in FIGURE_COLUMNS),
        CheckConstraint(
            "local_spending_eur IS NULL OR consumption_potential_eur IS NULL "
            "OR local_spending_eur <= consumption_potential_eur",
            name="spending_within_potential",
        ),
        # The latest year, the year before: asked by every report (max over the table).
        Index("ix_territory_years_year", "year"),
    )

    code: Mapped[str] = mapped_column(String(9), ForeignKey("territories.code"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    population: Mapped[int] = _euros()
    productive_wages_eur: Mapped[int] = _euros()
    productive_self_employed_eur: Mapped[int] = _euros()
    pensions_eur: Mapped[int] = _euros()
    commuter_wages_eur: Mapped[int] = _euros()
    tourism_spending_eur: Mapped[int] = _euros()
    property_income_eur: Mapped[int] = _euros()
    public_wages_eur: Mapped[int] = _euros()
    social_transfers_eur: Mapped[int] = _euros()
    jobs_presentielle: Mapped[int] = _euros()
    jobs_productive: Mapped[int] = _euros()
    consumption_potential_eur: Mapped[int | None] = _euros(nullable=True)
    local_spending_eur: Mapped[int | None] = _euros(nullable=True)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, server_default="EUR")
    source: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    import_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class SectorEmployment(Base):
    """Jobs of one territory in one NAF sector for one year."""

    __tablename__ = "sector_employment"
    __table_args__ = (CheckConstraint("jobs >= 0", name="jobs_non_negative"),)

    code: Mapped[str] = mapped_column(String(9), ForeignKey("territories.code"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    sector: Mapped[str] = mapped_column(String(20), primary_key=True)
    jobs: Mapped[int | None] = mapped_column(BigInteger)
    """NULL: a cell under statistical secrecy (INSEE's ``s``, ``nd``), unknown, never zero."""
    import_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class DataVersion(Base):
    """One row counting changes to the structural data, so computed years can be cached:
    every import and demo load bumps it in the same transaction as its writes."""

    __tablename__ = "data_version"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False)


class DiagnosticResult(Base):
    """The computed diagnostic of one territory (or perimeter) for one year: indicators
    with their percentiles, peers, engine shares, typology and findings, as
    ``indicators/service/persisted.py`` writes them for every territory of a year at once.

    ``code`` is a territory code or a perimeter key (``kind:code``), hence no foreign key;
    ``data_version`` is the version of the figures it was computed from."""

    __tablename__ = "diagnostic_results"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    level: Mapped[str] = mapped_column(Text, nullable=False)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    data_version: Mapped[int] = mapped_column(BigInteger, nullable=False)
    document: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
