"""The tables of the official geography: the rows of the COG keyed by (type, code), the
memberships of each commune (several parents at once, with validity dates), simplified
boundaries, the mouvements de communes and the sources loaded."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.diagnostics.database import Base, created_at

RELATIONS = ("departement", "region", "epci", "zone_emploi_2020", "zone_emploi_2010")


class GeographyUnit(Base):
    """One row of the COG: a commune (COM) or one of its parts (COMD, COMA, ARM, SRM).
    Codes repeat across types (a commune déléguée often keeps its old code), hence the key."""

    __tablename__ = "geography_units"
    __table_args__ = (
        CheckConstraint("type IN ('COM', 'COMD', 'COMA', 'ARM', 'SRM')", name="type"),
        CheckConstraint("population IS NULL OR population >= 0", name="population"),
    )

    type: Mapped[str] = mapped_column(String(4), primary_key=True)
    code: Mapped[str] = mapped_column(String(9), primary_key=True)  # SRM: 69123SR04
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    parent_code: Mapped[str | None] = mapped_column(String(5))
    departement: Mapped[str | None] = mapped_column(String(3))
    population: Mapped[int | None] = mapped_column(BigInteger)
    vintage: Mapped[date] = mapped_column(Date, nullable=False)
    source: Mapped[str] = mapped_column(Text, nullable=False)


class Membership(Base):
    """A commune's membership of a territory of another level (its département, région,
    EPCI, zone d'emploi) over [valid_from, valid_to); a commune has one parent per relation
    at a time and as many relations as there are levels."""

    __tablename__ = "territory_memberships"
    __table_args__ = (
        CheckConstraint(f"relation IN {RELATIONS!r}", name="relation"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="validity"),
    )

    member_code: Mapped[str] = mapped_column(
        String(9), ForeignKey("territories.code"), primary_key=True
    )
    relation: Mapped[str] = mapped_column(String(20), primary_key=True)
    valid_from: Mapped[date] = mapped_column(Date, primary_key=True)
    parent_code: Mapped[str] = mapped_column(String(9), nullable=False, index=True)
    valid_to: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    synthetic: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")


class Boundary(Base):
    """A territory's boundary (WKB, longitude/latitude), simplified once at import."""

    __tablename__ = "territory_boundaries"

    code: Mapped[str] = mapped_column(String(9), ForeignKey("territories.code"), primary_key=True)
    geometry: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    tolerance: Mapped[float] = mapped_column(Float, nullable=False)
    vintage: Mapped[date] = mapped_column(Date, nullable=False)


class CommuneChange(Base):
    """One line of INSEE's mouvements de communes (merger, split, new code, new name)."""

    __tablename__ = "commune_changes"

    mod: Mapped[int] = mapped_column(Integer, primary_key=True)
    effective: Mapped[date] = mapped_column(Date, primary_key=True)
    type_before: Mapped[str] = mapped_column(String(4), primary_key=True)
    code_before: Mapped[str] = mapped_column(String(5), primary_key=True)
    type_after: Mapped[str] = mapped_column(String(4), primary_key=True)
    code_after: Mapped[str] = mapped_column(String(5), primary_key=True)
    name_before: Mapped[str] = mapped_column(String(200), nullable=False)
    name_after: Mapped[str] = mapped_column(String(200), nullable=False)


class GeographySource(Base):
    """A source loaded into the database: what it is, its vintage, its licence as far as
    it can be established, and what it lacks (``details``)."""

    __tablename__ = "geography_sources"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    label: Mapped[str] = mapped_column(Text, nullable=False)
    vintage: Mapped[date | None] = mapped_column(Date)
    licence: Mapped[str] = mapped_column(Text, nullable=False)
    synthetic: Mapped[bool] = mapped_column(Boolean, nullable=False)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    loaded_at: Mapped[datetime] = created_at()
