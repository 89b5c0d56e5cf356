"""Tables of committee sessions: members, agenda, conflicts, votes, decisions."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.funding.db.base import Base, now_on_insert, one_of, required_fk, uuid_pk


class CommitteeSession(Base):
    """One sitting of a programme's committee."""

    __tablename__ = "committee_sessions"

    id: Mapped[uuid.UUID] = uuid_pk()
    programme_id: Mapped[uuid.UUID] = required_fk("programmes.id")
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    scheduled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    quorum: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="planned")
    created_at: Mapped[datetime] = now_on_insert()

    __table_args__ = (
        CheckConstraint(one_of("status", ("planned", "open", "closed")), name="status_known"),
        CheckConstraint("quorum >= 1", name="quorum_positive"),
    )


class CommitteeMember(Base):
    """A member of a session, and whether they attend it."""

    __tablename__ = "committee_members"

    session_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("committee_sessions.id"), primary_key=True
    )
    member_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    present: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class AgendaItem(Base):
    """An application on a session's agenda."""

    __tablename__ = "committee_agenda"

    session_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("committee_sessions.id"), primary_key=True
    )
    application_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("applications.id"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)


class Conflict(Base):
    """A member's declared interest in an application: that member cannot vote on it."""

    __tablename__ = "committee_conflicts"

    session_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("committee_sessions.id"), primary_key=True
    )
    application_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    created_at: Mapped[datetime] = now_on_insert()


class Vote(Base):
    """One member's vote; a trigger refuses a vote by a member with a declared conflict."""

    __tablename__ = "committee_votes"

    session_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("committee_sessions.id"), primary_key=True
    )
    application_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    choice: Mapped[str] = mapped_column(String(10), nullable=False)
    created_at: Mapped[datetime] = now_on_insert()

    __table_args__ = (
        CheckConstraint(one_of("choice", ("for", "against", "abstain")), name="choice"),
    )


class Decision(Base):
    """A committee decision; an approval carries its amount and a unique deliberation number."""

    __tablename__ = "committee_decisions"

    id: Mapped[uuid.UUID] = uuid_pk()
    session_id: Mapped[uuid.UUID] = required_fk("committee_sessions.id")
    application_id: Mapped[uuid.UUID] = required_fk("applications.id")
    outcome: Mapped[str] = mapped_column(String(20), nullable=False)
    amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    deliberation_number: Mapped[str | None] = mapped_column(String(100), unique=True)
    reason: Mapped[str | None] = mapped_column(Text)
    votes_for: Mapped[int] = mapped_column(Integer, nullable=False)
    votes_against: Mapped[int] = mapped_column(Integer, nullable=False)
    abstentions: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = now_on_insert()

    __table_args__ = (
        UniqueConstraint("session_id", "application_id", name="uq_decision_once"),
        CheckConstraint(one_of("outcome", ("approved", "rejected", "adjourned")), name="outcome"),
        CheckConstraint(
            "(outcome = 'approved') = (amount_cents IS NOT NULL AND amount_cents > 0)",
            name="amount_iff_approved",
        ),
        CheckConstraint(
            "outcome = 'approved' OR length(btrim(coalesce(reason, ''))) > 0",
            name="reason_unless_approved",
        ),
        CheckConstraint(
            "outcome = 'adjourned' OR deliberation_number IS NOT NULL", name="deliberation_number"
        ),
    )
