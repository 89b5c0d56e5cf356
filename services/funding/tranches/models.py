"""The table of tranches: the payment schedule of a grant and its payment orders."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.funding.db.base import Base, one_of, required_fk, uuid_pk

TRANCHE_STATUSES = ("scheduled", "ordered", "paid", "failed")


class Tranche(Base):
    """One planned payment of a grant, and the state of its payment order."""

    __tablename__ = "tranches"

    id: Mapped[uuid.UUID] = uuid_pk()
    application_id: Mapped[uuid.UUID] = required_fk("applications.id")
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    payable_when: Mapped[str] = mapped_column(String(40), nullable=False)
    report_number: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="scheduled")
    payable_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    order_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), unique=True)
    payment_mode: Mapped[str | None] = mapped_column(String(30))
    currency_code: Mapped[str | None] = mapped_column(String(20))
    beneficiary_account_id: Mapped[str | None] = mapped_column(String(100))
    funding_account_id: Mapped[str | None] = mapped_column(String(100))
    ordered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    transaction_id: Mapped[str | None] = mapped_column(String(100))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    # The ledger's conversion of amount_cents, from its answer to a paid order.
    paid_units: Mapped[int | None] = mapped_column(BigInteger)
    conversion_rate: Mapped[str | None] = mapped_column(String(20))
    conversion_rounding: Mapped[str | None] = mapped_column(String(20))

    __table_args__ = (
        UniqueConstraint("application_id", "number", name="uq_tranche_number"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint(one_of("status", TRANCHE_STATUSES), name="status_known"),
        CheckConstraint(
            "status = 'scheduled' OR (order_id IS NOT NULL AND payment_mode IS NOT NULL)",
            name="ordered_has_order",
        ),
        CheckConstraint("status <> 'failed' OR failure_reason IS NOT NULL", name="failed_reason"),
    )
