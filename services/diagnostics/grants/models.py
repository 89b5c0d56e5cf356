"""The tables of live grant aggregates and of the instruments' figures, fed by the funding
service's events."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from services.diagnostics.database import Base


class GrantAggregate(Base):
    """Grants of one programme in one territory for one month, in one currency (minor
    units): commitments and releases come in euro cents; payments in the paying currency."""

    __tablename__ = "grant_aggregates"
    __table_args__ = tuple(
        CheckConstraint(f"{c} >= 0", name=f"{c}_non_negative")
        for c in ("committed", "released", "payments", "paid")
    )

    territory: Mapped[str] = mapped_column(Text, primary_key=True)
    programme: Mapped[str] = mapped_column(Text, primary_key=True)
    currency: Mapped[str] = mapped_column(Text, primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    committed: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    released: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    payments: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    paid: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )


class InstrumentFigures(Base):
    """The latest instruments' figures of one département as funding published them
    (loans and guarantees, euro cents): one row per territory, replaced by a newer event,
    never by an older one delivered late."""

    __tablename__ = "instrument_figures"
    __table_args__ = tuple(
        CheckConstraint(f"{c} >= 0", name=f"{c}_non_negative")
        for c in ("instruments", "public_cents", "bank_loans_cents", "due_cents", "repaid_cents")
    )

    territory: Mapped[str] = mapped_column(Text, primary_key=True)
    as_of: Mapped[date] = mapped_column(Date, nullable=False)
    instruments: Mapped[int] = mapped_column(BigInteger, nullable=False)
    public_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    bank_loans_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    due_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    repaid_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    losses_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    event_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )
