"""The income_sources table: Filosofi's figures of one territory for one vintage.

Every figure is nullable: NULL is a cell under statistical secrecy (``s``, ``nd``, blank
in INSEE's file), unknown, never zero. Shares are percentages of disposable income, as
Filosofi publishes them (one decimal).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.diagnostics.database import Base
from services.diagnostics.incomes.rules import FIGURES


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
    import_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
