"""The income_sources table: Filosofi's figures of one territory for one vintage.

Every figure is nullable: NULL is a cell under statistical secrecy (``s``, ``nd``, blank
in INSEE's file), unknown, never zero. Shares are percentages of disposable income, as
Filosofi publishes them (one decimal).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.diagnostics.database import Base
from services.diagnostics.incomes.rules import ircom
from services.diagnostics.incomes.rules.filosofi import FIGURES
from services.diagnostics.incomes.rules.layouts import HOUSING, TOURISM


class IncomeSources(Base):
    """Households, persons, median income and the shares of each source of income."""

    __tablename__ = "income_sources"
    __table_args__ = tuple(
        CheckConstraint(f"{name} >= 0", name=f"{name}_non_negative") for name in FIGURES
    )

    code: Mapped[str] = mapped_column(String(9), ForeignKey("territories.code"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    households: Mapped[Decimal | None] = mapped_column(Numeric(14, 1))
    persons: Mapped[Decimal | None] = mapped_column(Numeric(14, 1))
    median_eur: Mapped[Decimal | None] = mapped_column(Numeric(12, 1))
    activity_share: Mapped[Decimal | None] = mapped_column(Numeric(6, 1))
    salaries_share: Mapped[Decimal | None] = mapped_column(Numeric(6, 1))
    unemployment_share: Mapped[Decimal | None] = mapped_column(Numeric(6, 1))
    self_employed_share: Mapped[Decimal | None] = mapped_column(Numeric(6, 1))
    pensions_share: Mapped[Decimal | None] = mapped_column(Numeric(6, 1))
    property_share: Mapped[Decimal | None] = mapped_column(Numeric(6, 1))
    social_benefits_share: Mapped[Decimal | None] = mapped_column(Numeric(6, 1))
    source: Mapped[str] = mapped_column(Text, nullable=False)
    geography_year: Mapped[int | None] = mapped_column(Integer)
    """The geography (1 January) the file's codes were read on."""
    import_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


def _non_negative(names: Iterable[str]) -> tuple[CheckConstraint, ...]:
    return tuple(CheckConstraint(f"{name} >= 0", name=f"{name}_non_negative") for name in names)


class IncomeTax(Base):
    """The DGFiP's IRCOM ``Total`` line of a commune (or a département's own line) for the
    incomes of one year: counts of tax households and amounts in whole euros; NULL is a
    ``n.c.`` cell (secret), unknown, never zero. The net tax may be negative."""

    __tablename__ = "income_tax"
    __table_args__ = _non_negative(n for n in ircom.FIGURES if n != "net_tax_eur")

    code: Mapped[str] = mapped_column(String(9), ForeignKey("territories.code"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    tax_households: Mapped[int | None] = mapped_column(BigInteger)
    reference_income_eur: Mapped[int | None] = mapped_column(BigInteger)
    net_tax_eur: Mapped[int | None] = mapped_column(BigInteger)
    taxed_households: Mapped[int | None] = mapped_column(BigInteger)
    taxed_reference_income_eur: Mapped[int | None] = mapped_column(BigInteger)
    salaries_households: Mapped[int | None] = mapped_column(BigInteger)
    salaries_eur: Mapped[int | None] = mapped_column(BigInteger)
    pensions_households: Mapped[int | None] = mapped_column(BigInteger)
    pensions_eur: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    geography_year: Mapped[int | None] = mapped_column(Integer)
    import_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class TourismCapacity(Base):
    """INSEE's tourist accommodation of a territory on 1 January of a year: hotels and
    their rooms by stars, campsites and their pitches, beds of collective accommodation."""

    __tablename__ = "tourism_capacity"
    __table_args__ = _non_negative(TOURISM.variables)

    code: Mapped[str] = mapped_column(String(9), ForeignKey("territories.code"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    hotels: Mapped[int | None] = mapped_column(Integer)
    hotel_rooms: Mapped[int | None] = mapped_column(Integer)
    hotel_rooms_unrated: Mapped[int | None] = mapped_column(Integer)
    hotel_rooms_1_star: Mapped[int | None] = mapped_column(Integer)
    hotel_rooms_2_stars: Mapped[int | None] = mapped_column(Integer)
    hotel_rooms_3_stars: Mapped[int | None] = mapped_column(Integer)
    hotel_rooms_4_stars: Mapped[int | None] = mapped_column(Integer)
    hotel_rooms_5_stars: Mapped[int | None] = mapped_column(Integer)
    campsites: Mapped[int | None] = mapped_column(Integer)
    campsite_pitches: Mapped[int | None] = mapped_column(Integer)
    holiday_village_beds: Mapped[int | None] = mapped_column(Integer)
    tourist_residence_beds: Mapped[int | None] = mapped_column(Integer)
    hostel_beds: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    geography_year: Mapped[int | None] = mapped_column(Integer)
    import_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class CensusHousing(Base):
    """The census's dwellings of a territory (weighted estimates, two decimals), for its
    secondary homes: tourist capacity no accommodation survey counts."""

    __tablename__ = "census_housing"
    __table_args__ = _non_negative(HOUSING.variables)

    code: Mapped[str] = mapped_column(String(9), ForeignKey("territories.code"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    dwellings: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    main_homes: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    secondary_homes: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    source: Mapped[str] = mapped_column(Text, nullable=False)
    geography_year: Mapped[int | None] = mapped_column(Integer)
    import_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
