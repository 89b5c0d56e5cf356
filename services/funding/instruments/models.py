"""Tables of the instruments: the instrument and its terms as decided, its schedule versions
and their instalments, the repayments received, guarantee calls and recoveries."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.funding.db.base import Base, now_on_insert, one_of, required_fk, uuid_pk

KINDS = ("repayable_advance", "honour_loan", "participatory_loan", "guarantee")
FREQUENCIES = ("monthly", "quarterly", "semiannual", "annual")
REPAYMENT_STATUSES = ("recorded", "ordered", "settled", "failed")
"""``recorded``: euros the treasury received, counted at once; ``ordered``: a direct debit
sent to the ledger; ``settled`` or ``failed``: the ledger's answer. Only recorded and
settled repayments count against the schedule."""
CALL_STATUSES = ("paid", "ordered", "failed")
"""``paid``: a euro call the treasury paid at once; ``ordered``: a call sent to the ledger
(its CP reserved); ``paid`` or ``failed``: the ledger's answer."""


class LedgerOrder:
    """Columns of a movement the ledger posts for an instrument (the grants' saga shape):
    the order sent, the currency, and the ledger's answer."""

    order_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), unique=True)
    currency_code: Mapped[str | None] = mapped_column(String(20))
    transaction_id: Mapped[str | None] = mapped_column(String(100))
    paid_units: Mapped[int | None] = mapped_column(BigInteger)
    failure_reason: Mapped[str | None] = mapped_column(Text)


def _order_checks(done: str, statuses: tuple[str, ...]) -> tuple[CheckConstraint, ...]:
    return (
        CheckConstraint(one_of("status", statuses), name="status_known"),
        CheckConstraint(
            f"status = '{done}' OR (order_id IS NOT NULL AND currency_code IS NOT NULL)",
            name="ordered_has_order",
        ),
        CheckConstraint("status <> 'failed' OR failure_reason IS NOT NULL", name="failed_reason"),
    )


class Instrument(Base):
    """The instrument a committee decision awarded, with its terms; one per application."""

    __tablename__ = "instruments"

    id: Mapped[uuid.UUID] = uuid_pk()
    application_id: Mapped[uuid.UUID] = required_fk("applications.id")
    decision_id: Mapped[uuid.UUID] = required_fk("committee_decisions.id")
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    start_on: Mapped[date | None] = mapped_column(Date)
    deferral_months: Mapped[int | None] = mapped_column(Integer)
    instalments: Mapped[int | None] = mapped_column(Integer)
    frequency: Mapped[str | None] = mapped_column(String(20))
    annual_rate_bp: Mapped[int | None] = mapped_column(Integer)
    bank_name: Mapped[str | None] = mapped_column(String(200))
    bank_loan_cents: Mapped[int | None] = mapped_column(BigInteger)
    covered_share_percent: Mapped[int | None] = mapped_column(Integer)
    fee_bp: Mapped[int | None] = mapped_column(Integer)
    term_months: Mapped[int | None] = mapped_column(Integer)
    jobs_declared: Mapped[int | None] = mapped_column(Integer)
    """Jobs created or kept, as declared at decision."""
    fee_cents: Mapped[int | None] = mapped_column(BigInteger)
    """A guarantee's one-off fee on the bank loan, recorded at decision."""
    created_at: Mapped[datetime] = now_on_insert()

    __table_args__ = (
        UniqueConstraint("application_id", name="uq_instrument_per_application"),
        CheckConstraint(one_of("kind", KINDS), name="kind_known"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint(
            "frequency IS NULL OR " + one_of("frequency", FREQUENCIES), name="frequency_known"
        ),
        CheckConstraint(
            "(kind = 'guarantee') = (bank_loan_cents IS NOT NULL AND instalments IS NULL)",
            name="terms_fit_kind",
        ),
        CheckConstraint(
            "bank_loan_cents IS NULL OR bank_loan_cents > 0", name="bank_loan_positive"
        ),
        CheckConstraint(
            "(jobs_declared IS NULL OR jobs_declared >= 0)"
            " AND (fee_cents IS NULL OR fee_cents >= 0)",
            name="jobs_and_fee_not_negative",
        ),
    )


class ScheduleVersion(Base):
    """One version of a loan's schedule; version 1 comes from the terms, later ones from a
    rescheduling with its reason, after ``base_repaid_cents`` were repaid."""

    __tablename__ = "instrument_schedules"

    id: Mapped[uuid.UUID] = uuid_pk()
    instrument_id: Mapped[uuid.UUID] = required_fk("instruments.id")
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    base_repaid_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = now_on_insert()

    __table_args__ = (
        UniqueConstraint("instrument_id", "version", name="uq_schedule_version"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("base_repaid_cents >= 0", name="base_not_negative"),
    )


class InstalmentRow(Base):
    """One instalment of a schedule version."""

    __tablename__ = "instrument_instalments"

    id: Mapped[uuid.UUID] = uuid_pk()
    schedule_id: Mapped[uuid.UUID] = required_fk("instrument_schedules.id")
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    due_on: Mapped[date] = mapped_column(Date, nullable=False)
    principal_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    interest_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)

    __table_args__ = (
        UniqueConstraint("schedule_id", "number", name="uq_instalment_number"),
        CheckConstraint(
            "principal_cents >= 0 AND interest_cents >= 0", name="instalment_not_negative"
        ),
    )


class Repayment(LedgerOrder, Base):
    """A repayment received on a loan: euros recorded through the funding API, or a local
    currency direct debit the ledger posts under the borrower's mandate."""

    __tablename__ = "instrument_repayments"

    id: Mapped[uuid.UUID] = uuid_pk()
    instrument_id: Mapped[uuid.UUID] = required_fk("instruments.id")
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    received_on: Mapped[date] = mapped_column(Date, nullable=False)
    reference: Mapped[str | None] = mapped_column(String(100))
    recorded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(
        String(20), nullable=False, default="recorded", server_default="recorded"
    )
    created_at: Mapped[datetime] = now_on_insert()

    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="repayment_positive"),
        *_order_checks("recorded", REPAYMENT_STATUSES),
    )


class GuaranteeCall(LedgerOrder, Base):
    """A guarantee called on the bank's default: what it paid (at most once), in euros by
    the treasury or through the ledger to the account linked to the file (the lender's)."""

    __tablename__ = "guarantee_calls"

    id: Mapped[uuid.UUID] = uuid_pk()
    instrument_id: Mapped[uuid.UUID] = required_fk("instruments.id")
    defaulted_on: Mapped[date] = mapped_column(Date, nullable=False)
    outstanding_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    paid_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    recorded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(
        String(20), nullable=False, default="paid", server_default="paid"
    )
    created_at: Mapped[datetime] = now_on_insert()

    __table_args__ = (
        UniqueConstraint("instrument_id", name="uq_guarantee_called_once"),
        CheckConstraint("outstanding_cents > 0 AND paid_cents > 0", name="call_positive"),
        *_order_checks("paid", CALL_STATUSES),
    )


class Recovery(Base):
    """Money recovered after a guarantee was called (from the debtor, through the bank)."""

    __tablename__ = "guarantee_recoveries"

    id: Mapped[uuid.UUID] = uuid_pk()
    instrument_id: Mapped[uuid.UUID] = required_fk("instruments.id")
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    received_on: Mapped[date] = mapped_column(Date, nullable=False)
    recorded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = now_on_insert()

    __table_args__ = (CheckConstraint("amount_cents > 0", name="recovery_positive"),)


class WriteOff(Base):
    """A flagged loan written off: requested by one officer, approved by another (four
    eyes); the database refuses the same person on both sides."""

    __tablename__ = "instrument_write_offs"

    id: Mapped[uuid.UUID] = uuid_pk()
    instrument_id: Mapped[uuid.UUID] = required_fk("instruments.id")
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    owed_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    requested_by: Mapped[str] = mapped_column(String(200), nullable=False)
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = now_on_insert()

    __table_args__ = (
        UniqueConstraint("instrument_id", name="uq_write_off_once"),
        CheckConstraint("owed_cents > 0", name="write_off_positive"),
        CheckConstraint("approved_by IS NULL OR approved_by <> requested_by", name="four_eyes"),
        CheckConstraint("(approved_by IS NULL) = (approved_at IS NULL)", name="approved_when"),
    )


FOLLOW_UP_YEARS = (1, 3, 5)


class FollowUp(Base):
    """A follow-up of the supported firm, 1, 3 or 5 years after the decision: whether it
    is still active and its jobs then (survival rates, as the partner networks report)."""

    __tablename__ = "instrument_follow_ups"

    id: Mapped[uuid.UUID] = uuid_pk()
    instrument_id: Mapped[uuid.UUID] = required_fk("instruments.id")
    years: Mapped[int] = mapped_column(Integer, nullable=False)
    observed_on: Mapped[date] = mapped_column(Date, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False)
    jobs: Mapped[int] = mapped_column(Integer, nullable=False)
    recorded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = now_on_insert()

    __table_args__ = (
        UniqueConstraint("instrument_id", "years", name="uq_follow_up_per_year"),
        CheckConstraint("years IN (1, 3, 5)", name="years_known"),
        CheckConstraint("jobs >= 0", name="jobs_not_negative"),
    )
