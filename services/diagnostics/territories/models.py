"""The territories table: one row per INSEE-coded territory (SIREN for an EPCI)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from services.diagnostics.database import Base, created_at


class Territory(Base):
    """An administrative or statistical territory identified by its INSEE code (SIREN for EPCI)."""

    __tablename__ = "territories"
    __table_args__ = (
        CheckConstraint(
            "level IN ('region', 'departement', 'zone_emploi', 'epci', 'commune')", name="level"
        ),
    )

    code: Mapped[str] = mapped_column(String(9), primary_key=True)
    level: Mapped[str] = mapped_column(String(20), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    parent_code: Mapped[str | None] = mapped_column(String(9), index=True)
    legal_population: Mapped[int | None] = mapped_column(BigInteger)
    synthetic: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    created_at: Mapped[datetime] = created_at()
