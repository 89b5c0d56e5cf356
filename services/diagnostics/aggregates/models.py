"""The tables of the live currency aggregates: raw transfers, counters per territory,
currency and month, active accounts, and the rows waiting to be published.

Amounts are integer minor units of a currency, always ``BigInteger``; CHECK constraints
refuse negative figures whatever the path.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Identity, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from services.diagnostics.database import Base, created_at


class CurrencyTransfer(Base):
    """One movement of a local currency derived from a posted ledger transaction
    (payer → payee, minor units), kept to recompute velocity, flows and LM3."""

    __tablename__ = "currency_transfers"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("kind IN ('issuance', 'payment', 'reconversion')", name="kind"),
        Index("ix_currency_transfers_currency_at", "currency", "at", "seq"),
        Index("ix_currency_transfers_payer", "currency", "payer_territory", "at"),
        Index("ix_currency_transfers_payee", "currency", "payee_territory", "at"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    transaction_id: Mapped[str] = mapped_column(Text, nullable=False, index=True)
    currency: Mapped[str] = mapped_column(Text, nullable=False)
    period: Mapped[str] = mapped_column(String(7), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    payer_account: Mapped[str] = mapped_column(Text, nullable=False)
    payee_account: Mapped[str] = mapped_column(Text, nullable=False)
    payer_territory: Mapped[str | None] = mapped_column(Text)
    payee_territory: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class CurrencyAggregate(Base):
    """Live counters of one currency in one territory for one month (minor units)."""

    __tablename__ = "currency_aggregates"
    __table_args__ = tuple(
        CheckConstraint(f"{c} >= 0", name=f"{c}_non_negative")
        for c in (
            "transactions",
            "issued",
            "received_from_outside",
            "spent_locally",
            "spent_outside",
            "reconverted",
        )
    )

    territory: Mapped[str] = mapped_column(Text, primary_key=True)
    currency: Mapped[str] = mapped_column(Text, primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    transactions: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    issued: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    received_from_outside: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    spent_locally: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    spent_outside: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    reconverted: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )


class CurrencyActiveAccount(Base):
    """A circulating account that moved units in a territory, currency and month."""

    __tablename__ = "currency_active_accounts"

    territory: Mapped[str] = mapped_column(Text, primary_key=True)
    currency: Mapped[str] = mapped_column(Text, primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    account: Mapped[str] = mapped_column(Text, primary_key=True)


class PendingPublication(Base):
    """An aggregate row changed since it was last published on the live stream.

    Publishing coalesces: a burst of transactions on one (territory, currency, month) makes
    one AggregateUpdated per metric per publish interval, not one per transaction.
    """

    __tablename__ = "pending_publications"

    territory: Mapped[str] = mapped_column(Text, primary_key=True)
    currency: Mapped[str] = mapped_column(Text, primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    marked_at: Mapped[datetime] = created_at()
