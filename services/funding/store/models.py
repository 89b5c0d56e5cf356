"""SQLAlchemy models of the funding service: its own metadata, its own migration history.

The money invariants live in CHECK constraints so that no code path, present or future, can
over-commit an envelope or pay beyond a commitment; the Python rules in ``domain`` refuse
first with a clear problem, the database refuses anyway.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import ServiceBase, make_metadata
from shared.ids import uuid7


class Base(ServiceBase):
    __abstract__ = True
    metadata = make_metadata()


def _pk() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)


def _created() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


def _fk(target: str) -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), ForeignKey(target), nullable=False, index=True)


class Programme(Base):
    """A grant programme (IDéclic Solidaire "projet", CAE support, emergence funding...)."""

    __tablename__ = "programmes"

    id: Mapped[uuid.UUID] = _pk()
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
    created_at: Mapped[datetime] = _created()

    __table_args__ = (
        CheckConstraint("convention_threshold_cents > 0", name="threshold_positive"),
        CheckConstraint("advance_percent >= 0 AND advance_percent < 100", name="advance_range"),
    )


class Envelope(Base):
    """A programme's budget for one year: commitment credits (AP) and payment credits (CP).

    ``ordered_cents`` are payments sent to the payer and not yet confirmed: they already
    count against the commitment and the CP, so two orders can never overspend together.
    """

    __tablename__ = "envelopes"

    id: Mapped[uuid.UUID] = _pk()
    code: Mapped[str] = mapped_column(String(60), nullable=False, unique=True)
    programme_id: Mapped[uuid.UUID] = _fk("programmes.id")
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    ap_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    cp_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    committed_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    ordered_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    paid_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    delegated_to: Mapped[str | None] = mapped_column(String(200))
    delegated_territories: Mapped[list[str] | None] = mapped_column(ARRAY(String(5)))
    created_at: Mapped[datetime] = _created()

    __table_args__ = (
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
        CheckConstraint(
            "ap_cents >= 0 AND cp_cents >= 0 AND committed_cents >= 0 AND ordered_cents >= 0"
            " AND paid_cents >= 0",
            name="non_negative",
        ),
        CheckConstraint("committed_cents <= ap_cents", name="committed_within_ap"),
        CheckConstraint(
            "paid_cents + ordered_cents <= committed_cents", name="paid_within_committed"
        ),
        CheckConstraint("paid_cents + ordered_cents <= cp_cents", name="paid_within_cp"),
        CheckConstraint(
            "(delegated_to IS NULL) = (delegated_territories IS NULL)", name="delegation_complete"
        ),
    )


class Call(Base):
    """A call for projects: a submission window, criteria and required documents."""

    __tablename__ = "calls"

    id: Mapped[uuid.UUID] = _pk()
    programme_id: Mapped[uuid.UUID] = _fk("programmes.id")
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    opens_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    closes_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    criteria: Mapped[str] = mapped_column(Text, nullable=False, default="")
    required_documents: Mapped[list[str]] = mapped_column(ARRAY(String(200)), nullable=False)
    created_at: Mapped[datetime] = _created()

    __table_args__ = (CheckConstraint("closes_at > opens_at", name="window_order"),)


class Accompanist(Base):
    """A local accompanist who instructs files in the territories they cover."""

    __tablename__ = "accompanists"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    territories: Mapped[list[str]] = mapped_column(ARRAY(String(5)), nullable=False)
    capacity: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = _created()

    __table_args__ = (CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity"),)


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


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Application(Base):
    """A grant application and where it stands in the workflow."""

    __tablename__ = "applications"

    id: Mapped[uuid.UUID] = _pk()
    programme_id: Mapped[uuid.UUID] = _fk("programmes.id")
    envelope_id: Mapped[uuid.UUID] = _fk("envelopes.id")
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
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _created()

    __table_args__ = (
        CheckConstraint(_in("state", APPLICATION_STATES), name="state_known"),
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
    application_id: Mapped[uuid.UUID] = _fk("applications.id")
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)
    actor_client_id: Mapped[str] = mapped_column(String(200), nullable=False)
    actor_role: Mapped[str] = mapped_column(String(40), nullable=False)
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str] = mapped_column(String(40), nullable=False)
    fields: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    at: Mapped[datetime] = _created()
    previous_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)

    __table_args__ = (UniqueConstraint("application_id", "sequence", name="uq_transition_seq"),)


class Opinion(Base):
    """An expert opinion (avis) on an application; confidential ones stay with staff."""

    __tablename__ = "opinions"

    id: Mapped[uuid.UUID] = _pk()
    application_id: Mapped[uuid.UUID] = _fk("applications.id")
    expert: Mapped[str] = mapped_column(String(200), nullable=False)
    verdict: Mapped[str] = mapped_column(String(20), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    confidential: Mapped[bool] = mapped_column(Boolean, nullable=False)
    author_client_id: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = _created()

    __table_args__ = (
        CheckConstraint(_in("verdict", ("favourable", "unfavourable", "reserved")), name="verdict"),
    )


class Annotation(Base):
    """A private note of the instructors on an application; never shown to the applicant."""

    __tablename__ = "annotations"

    id: Mapped[uuid.UUID] = _pk()
    application_id: Mapped[uuid.UUID] = _fk("applications.id")
    author_client_id: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created()


class Message(Base):
    """A message between the applicant and the instructors."""

    __tablename__ = "messages"

    id: Mapped[uuid.UUID] = _pk()
    application_id: Mapped[uuid.UUID] = _fk("applications.id")
    author_client_id: Mapped[str] = mapped_column(String(200), nullable=False)
    author_role: Mapped[str] = mapped_column(String(40), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created()


class Document(Base):
    """Metadata of a document attached to an application; content lives in a blob store."""

    __tablename__ = "documents"

    id: Mapped[uuid.UUID] = _pk()
    application_id: Mapped[uuid.UUID] = _fk("applications.id")
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    uploaded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = _created()

    __table_args__ = (
        CheckConstraint("size_bytes >= 0", name="size"),
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
    )


class CommitteeSession(Base):
    """One sitting of a programme's committee."""

    __tablename__ = "committee_sessions"

    id: Mapped[uuid.UUID] = _pk()
    programme_id: Mapped[uuid.UUID] = _fk("programmes.id")
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    scheduled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    quorum: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="planned")
    created_at: Mapped[datetime] = _created()

    __table_args__ = (
        CheckConstraint(_in("status", ("planned", "open", "closed")), name="status_known"),
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
    created_at: Mapped[datetime] = _created()


class Vote(Base):
    """One member's vote; a trigger refuses a vote by a member with a declared conflict."""

    __tablename__ = "committee_votes"

    session_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("committee_sessions.id"), primary_key=True
    )
    application_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    choice: Mapped[str] = mapped_column(String(10), nullable=False)
    created_at: Mapped[datetime] = _created()

    __table_args__ = (CheckConstraint(_in("choice", ("for", "against", "abstain")), name="choice"),)


class Decision(Base):
    """A committee decision; an approval carries its amount and a unique deliberation number."""

    __tablename__ = "committee_decisions"

    id: Mapped[uuid.UUID] = _pk()
    session_id: Mapped[uuid.UUID] = _fk("committee_sessions.id")
    application_id: Mapped[uuid.UUID] = _fk("applications.id")
    outcome: Mapped[str] = mapped_column(String(20), nullable=False)
    amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    deliberation_number: Mapped[str | None] = mapped_column(String(100), unique=True)
    reason: Mapped[str | None] = mapped_column(Text)
    votes_for: Mapped[int] = mapped_column(Integer, nullable=False)
    votes_against: Mapped[int] = mapped_column(Integer, nullable=False)
    abstentions: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = _created()

    __table_args__ = (
        UniqueConstraint("session_id", "application_id", name="uq_decision_once"),
        CheckConstraint(_in("outcome", ("approved", "rejected", "adjourned")), name="outcome"),
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


TRANCHE_STATUSES = ("scheduled", "ordered", "paid", "failed")


class Tranche(Base):
    """One planned payment of a grant, and the state of its payment order."""

    __tablename__ = "tranches"

    id: Mapped[uuid.UUID] = _pk()
    application_id: Mapped[uuid.UUID] = _fk("applications.id")
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
        CheckConstraint(_in("status", TRANCHE_STATUSES), name="status_known"),
        CheckConstraint(
            "status = 'scheduled' OR (order_id IS NOT NULL AND payment_mode IS NOT NULL)",
            name="ordered_has_order",
        ),
        CheckConstraint("status <> 'failed' OR failure_reason IS NOT NULL", name="failed_reason"),
    )


class ProgressReport(Base):
    """A progress report of a funded project, with its indicators and evaluation; accepting
    the n-th intermediate report releases the tranche that waits for it."""

    __tablename__ = "progress_reports"

    id: Mapped[uuid.UUID] = _pk()
    application_id: Mapped[uuid.UUID] = _fk("applications.id")
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    submitted_by: Mapped[str] = mapped_column(String(200), nullable=False)
    jobs_created: Mapped[int] = mapped_column(Integer, nullable=False)
    members: Mapped[int] = mapped_column(Integer, nullable=False)
    turnover_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    economic_evaluation: Mapped[str] = mapped_column(Text, nullable=False, default="")
    social_evaluation: Mapped[str] = mapped_column(Text, nullable=False, default="")
    environmental_evaluation: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="submitted")
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    review_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()

    __table_args__ = (
        UniqueConstraint("application_id", "kind", "number", name="uq_report_number"),
        CheckConstraint(_in("kind", ("intermediate", "final")), name="kind_known"),
        CheckConstraint(_in("status", ("submitted", "accepted", "rejected")), name="status_known"),
        CheckConstraint(
            "number >= 1 AND jobs_created >= 0 AND members >= 0 AND turnover_cents >= 0",
            name="figures_non_negative",
        ),
        CheckConstraint(
            "(status = 'submitted') = (reviewed_by IS NULL)", name="reviewed_when_decided"
        ),
    )
