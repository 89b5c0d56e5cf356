"""Tables of the application workflow: applications and their audit trail."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Identity,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.funding.db.base import Base, now_on_insert, one_of, required_fk, uuid_pk

APPLICATION_STATES = (
    "draft",
    "submitted",
    "eligibility_check",
    "in_instruction",
    "correction_requested",
    "in_committee",
    "approved",
    "rejected",
    "withdrawn",
    "closed_without_follow_up",
    "convention_signed",
    "in_payment",
    "final_report_received",
    "closed",
)


class Application(Base):
    """A grant application and where it stands in the workflow."""

    __tablename__ = "applications"

    id: Mapped[uuid.UUID] = uuid_pk()
    programme_id: Mapped[uuid.UUID] = required_fk("programmes.id")
    envelope_id: Mapped[uuid.UUID] = required_fk("envelopes.id")
    call_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("calls.id"))
    applicant_client_id: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    applicant_name: Mapped[str] = mapped_column(String(200), nullable=False)
    legal_form: Mapped[str] = mapped_column(String(40), nullable=False)
    project_stage: Mapped[str] = mapped_column(String(40), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    commune_insee_code: Mapped[str] = mapped_column(String(5), nullable=False)
    territory: Mapped[str] = mapped_column(String(3), nullable=False, index=True)
    requested_amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    granted_amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    paid_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    state: Mapped[str] = mapped_column(String(40), nullable=False, default="draft")
    instructor_id: Mapped[str | None] = mapped_column(String(100))
    convention_reference: Mapped[str | None] = mapped_column(String(100))
    jobs_created: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = now_on_insert()
    updated_at: Mapped[datetime] = now_on_insert()

    __table_args__ = (
        CheckConstraint(one_of("state", APPLICATION_STATES), name="state_known"),
        CheckConstraint("requested_amount_cents > 0", name="requested_positive"),
        CheckConstraint(
            "granted_amount_cents IS NULL OR granted_amount_cents > 0", name="granted_positive"
        ),
        CheckConstraint(
            "paid_cents >= 0 AND paid_cents <= coalesce(granted_amount_cents, 0)",
            name="paid_within_grant",
        ),
    )


class Transition(Base):
    """Audit log of the workflow: append-only (a trigger refuses UPDATE and DELETE) and hash
    chained per application, so a rewritten history no longer verifies."""

    __tablename__ = "application_transitions"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    application_id: Mapped[uuid.UUID] = required_fk("applications.id")
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)
    actor_client_id: Mapped[str] = mapped_column(String(200), nullable=False)
    actor_role: Mapped[str] = mapped_column(String(40), nullable=False)
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str] = mapped_column(String(40), nullable=False)
    fields: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    at: Mapped[datetime] = now_on_insert()
    previous_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)

    __table_args__ = (UniqueConstraint("application_id", "sequence", name="uq_transition_seq"),)
