"""Tables of the programme catalogue: programmes, their envelopes, calls, accompanists."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, DateTime, Integer, String, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from services.funding.db.base import Base, now_on_insert, required_fk, uuid_pk


class Programme(Base):
    """A grant programme (IDéclic Solidaire "projet", CAE support, emergence funding...)."""

    __tablename__ = "programmes"

    id: Mapped[uuid.UUID] = uuid_pk()
    code: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    operator: Mapped[str] = mapped_column(String(200), nullable=False)
    eligible_territories: Mapped[list[str]] = mapped_column(ARRAY(String(5)), nullable=False)
    legal_forms: Mapped[list[str]] = mapped_column(ARRAY(String(40)), nullable=False)
    project_stages: Mapped[list[str]] = mapped_column(ARRAY(String(40)), nullable=False)
    convention_threshold_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    advance_percent: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    intermediate_percents: Mapped[list[int]] = mapped_column(
        ARRAY(Integer), nullable=False, server_default="{}"
    )
    # A revolving fund re-lends what comes back: repayments and recoveries received on its
    # envelopes raise their AP and CP by as much (``Envelope.relendable_cents``).
    revolving: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default="false"
    )
    created_at: Mapped[datetime] = now_on_insert()

    __table_args__ = (
        CheckConstraint("convention_threshold_cents > 0", name="threshold_positive"),
        CheckConstraint("advance_percent >= 0 AND advance_percent < 100", name="advance_range"),
    )


def _returns() -> Mapped[int]:
    return mapped_column(BigInteger, nullable=False, default=0, server_default="0")


class Envelope(Base):
    """A programme's budget for one year: commitment credits (AP) and payment credits (CP).

    ``ordered_cents`` are payments sent to the payer and not yet confirmed: they already
    count against the commitment and the CP, so two orders can never overspend together.

    What comes back, for loans and guarantees: ``expected_repayments_cents`` is what the
    loans decided on this envelope are to repay (their first schedules),
    ``repaid_cents`` what was received, ``recovered_cents`` what guarantee calls recovered,
    ``losses_cents`` what written-off loans still owed plus guarantee calls net of
    recoveries; ``relendable_cents`` (revolving programmes only) is what came back and may
    be committed and paid again, on top of AP and CP.
    """

    __tablename__ = "envelopes"

    id: Mapped[uuid.UUID] = uuid_pk()
    code: Mapped[str] = mapped_column(String(60), nullable=False, unique=True)
    programme_id: Mapped[uuid.UUID] = required_fk("programmes.id")
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    ap_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    cp_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    committed_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    ordered_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    paid_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    expected_repayments_cents: Mapped[int] = _returns()
    repaid_cents: Mapped[int] = _returns()
    recovered_cents: Mapped[int] = _returns()
    losses_cents: Mapped[int] = _returns()
    relendable_cents: Mapped[int] = _returns()
    delegated_to: Mapped[str | None] = mapped_column(String(200))
    delegated_territories: Mapped[list[str] | None] = mapped_column(ARRAY(String(5)))
    created_at: Mapped[datetime] = now_on_insert()

    __table_args__ = (
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
        CheckConstraint(
            "ap_cents >= 0 AND cp_cents >= 0 AND committed_cents >= 0 AND ordered_cents >= 0"
            " AND paid_cents >= 0",
            name="non_negative",
        ),
        CheckConstraint(
            "expected_repayments_cents >= 0 AND repaid_cents >= 0 AND recovered_cents >= 0"
            " AND losses_cents >= 0 AND relendable_cents >= 0",
            name="returns_non_negative",
        ),
        CheckConstraint(
            "committed_cents <= ap_cents + relendable_cents", name="committed_within_ap"
        ),
        CheckConstraint(
            "paid_cents + ordered_cents <= committed_cents", name="paid_within_committed"
        ),
        CheckConstraint(
            "paid_cents + ordered_cents <= cp_cents + relendable_cents", name="paid_within_cp"
        ),
        CheckConstraint(
            "(delegated_to IS NULL) = (delegated_territories IS NULL)", name="delegation_complete"
        ),
    )


class Call(Base):
    """A call for projects: a submission window, criteria and required documents."""

    __tablename__ = "calls"

    id: Mapped[uuid.UUID] = uuid_pk()
    programme_id: Mapped[uuid.UUID] = required_fk("programmes.id")
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    opens_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    closes_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    criteria: Mapped[str] = mapped_column(Text, nullable=False, default="")
    required_documents: Mapped[list[str]] = mapped_column(ARRAY(String(200)), nullable=False)
    created_at: Mapped[datetime] = now_on_insert()

    __table_args__ = (CheckConstraint("closes_at > opens_at", name="window_order"),)


class Accompanist(Base):
    """A local accompanist who instructs files in the territories they cover."""

    __tablename__ = "accompanists"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    territories: Mapped[list[str]] = mapped_column(ARRAY(String(5)), nullable=False)
    capacity: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = now_on_insert()

    __table_args__ = (CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity"),)
