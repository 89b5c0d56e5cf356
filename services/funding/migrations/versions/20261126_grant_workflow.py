"""Grant workflow: programmes, envelopes, calls, applications, audit, instruction,
committees, tranches; DB-enforced money invariants and append-only / conflict triggers.

Revision ID: funding_0002
Revises: funding_0001
Create Date: 2026-11-26 02:40:13.414692
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "funding_0002"
down_revision: str | None = "funding_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_STATES = (
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


def upgrade() -> None:
    op.create_table(
        "accompanists",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("territories", postgresql.ARRAY(sa.String(length=5)), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "capacity IS NULL OR capacity >= 0", name=op.f("ck_accompanists_capacity")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accompanists")),
    )
    op.create_table(
        "programmes",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("operator", sa.String(length=200), nullable=False),
        sa.Column("eligible_territories", postgresql.ARRAY(sa.String(length=5)), nullable=False),
        sa.Column("legal_forms", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("project_stages", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("convention_threshold_cents", sa.BigInteger(), nullable=False),
        sa.Column("advance_percent", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "advance_percent >= 0 AND advance_percent < 100",
            name=op.f("ck_programmes_advance_range"),
        ),
        sa.CheckConstraint(
            "convention_threshold_cents > 0", name=op.f("ck_programmes_threshold_positive")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programmes")),
        sa.UniqueConstraint("code", name=op.f("uq_programmes_code")),
    )
    op.create_table(
        "calls",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("programme_id", sa.UUID(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("criteria", sa.Text(), nullable=False),
        sa.Column("required_documents", postgresql.ARRAY(sa.String(length=200)), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("closes_at > opens_at", name=op.f("ck_calls_window_order")),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programmes.id"], name=op.f("fk_calls_programme_id_programmes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
    )
    op.create_index(op.f("ix_calls_programme_id"), "calls", ["programme_id"], unique=False)
    op.create_table(
        "committee_sessions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("programme_id", sa.UUID(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("quorum", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('planned', 'open', 'closed')",
            name=op.f("ck_committee_sessions_status_known"),
        ),
        sa.CheckConstraint("quorum >= 1", name=op.f("ck_committee_sessions_quorum_positive")),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programmes.id"],
            name=op.f("fk_committee_sessions_programme_id_programmes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_committee_sessions")),
    )
    op.create_index(
        op.f("ix_committee_sessions_programme_id"),
        "committee_sessions",
        ["programme_id"],
        unique=False,
    )
    op.create_table(
        "envelopes",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("programme_id", sa.UUID(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("ap_cents", sa.BigInteger(), nullable=False),
        sa.Column("cp_cents", sa.BigInteger(), nullable=False),
        sa.Column("committed_cents", sa.BigInteger(), nullable=False),
        sa.Column("ordered_cents", sa.BigInteger(), nullable=False),
        sa.Column("paid_cents", sa.BigInteger(), nullable=False),
        sa.Column("delegated_to", sa.String(length=200), nullable=True),
        sa.Column("delegated_territories", postgresql.ARRAY(sa.String(length=5)), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(delegated_to IS NULL) = (delegated_territories IS NULL)",
            name=op.f("ck_envelopes_delegation_complete"),
        ),
        sa.CheckConstraint(
            "ap_cents >= 0 AND cp_cents >= 0 AND committed_cents >= 0"
            " AND ordered_cents >= 0 AND paid_cents >= 0",
            name=op.f("ck_envelopes_non_negative"),
        ),
        sa.CheckConstraint(
            "committed_cents <= ap_cents", name=op.f("ck_envelopes_committed_within_ap")
        ),
        sa.CheckConstraint(
            "paid_cents + ordered_cents <= committed_cents",
            name=op.f("ck_envelopes_paid_within_committed"),
        ),
        sa.CheckConstraint(
            "paid_cents + ordered_cents <= cp_cents", name=op.f("ck_envelopes_paid_within_cp")
        ),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name=op.f("ck_envelopes_year_range")),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programmes.id"], name=op.f("fk_envelopes_programme_id_programmes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_envelopes")),
        sa.UniqueConstraint("code", name=op.f("uq_envelopes_code")),
    )
    op.create_index(op.f("ix_envelopes_programme_id"), "envelopes", ["programme_id"], unique=False)
    op.create_table(
        "applications",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("programme_id", sa.UUID(), nullable=False),
        sa.Column("envelope_id", sa.UUID(), nullable=False),
        sa.Column("call_id", sa.UUID(), nullable=True),
        sa.Column("applicant_client_id", sa.String(length=200), nullable=False),
        sa.Column("applicant_name", sa.String(length=200), nullable=False),
        sa.Column("legal_form", sa.String(length=40), nullable=False),
        sa.Column("project_stage", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("commune_insee_code", sa.String(length=5), nullable=False),
        sa.Column("territory", sa.String(length=3), nullable=False),
        sa.Column("requested_amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("granted_amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("paid_cents", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("instructor_id", sa.String(length=100), nullable=True),
        sa.Column("convention_reference", sa.String(length=100), nullable=True),
        sa.Column("jobs_created", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "state IN (" + ", ".join(repr(v) for v in _STATES) + ")",
            name=op.f("ck_applications_state_known"),
        ),
        sa.CheckConstraint(
            "granted_amount_cents IS NULL OR granted_amount_cents > 0",
            name=op.f("ck_applications_granted_positive"),
        ),
        sa.CheckConstraint(
            "paid_cents >= 0 AND paid_cents <= coalesce(granted_amount_cents, 0)",
            name=op.f("ck_applications_paid_within_grant"),
        ),
        sa.CheckConstraint(
            "requested_amount_cents > 0", name=op.f("ck_applications_requested_positive")
        ),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_applications_call_id_calls")
        ),
        sa.ForeignKeyConstraint(
            ["envelope_id"], ["envelopes.id"], name=op.f("fk_applications_envelope_id_envelopes")
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programmes.id"],
            name=op.f("fk_applications_programme_id_programmes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
    )
    op.create_index(
        op.f("ix_applications_applicant_client_id"),
        "applications",
        ["applicant_client_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_applications_envelope_id"), "applications", ["envelope_id"], unique=False
    )
    op.create_index(
        op.f("ix_applications_programme_id"), "applications", ["programme_id"], unique=False
    )
    op.create_index(op.f("ix_applications_territory"), "applications", ["territory"], unique=False)
    op.create_table(
        "committee_conflicts",
        sa.Column("session_id", sa.UUID(), nullable=False),
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("member_id", sa.String(length=100), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["committee_sessions.id"],
            name=op.f("fk_committee_conflicts_session_id_committee_sessions"),
        ),
        sa.PrimaryKeyConstraint(
            "session_id", "application_id", "member_id", name=op.f("pk_committee_conflicts")
        ),
    )
    op.create_table(
        "committee_members",
        sa.Column("session_id", sa.UUID(), nullable=False),
        sa.Column("member_id", sa.String(length=100), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["committee_sessions.id"],
            name=op.f("fk_committee_members_session_id_committee_sessions"),
        ),
        sa.PrimaryKeyConstraint("session_id", "member_id", name=op.f("pk_committee_members")),
    )
    op.create_table(
        "committee_votes",
        sa.Column("session_id", sa.UUID(), nullable=False),
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("member_id", sa.String(length=100), nullable=False),
        sa.Column("choice", sa.String(length=10), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "choice IN ('for', 'against', 'abstain')", name=op.f("ck_committee_votes_choice")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["committee_sessions.id"],
            name=op.f("fk_committee_votes_session_id_committee_sessions"),
        ),
        sa.PrimaryKeyConstraint(
            "session_id", "application_id", "member_id", name=op.f("pk_committee_votes")
        ),
    )
    op.create_table(
        "annotations",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("author_client_id", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_annotations_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotations")),
    )
    op.create_index(
        op.f("ix_annotations_application_id"), "annotations", ["application_id"], unique=False
    )
    op.create_table(
        "application_transitions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("actor_client_id", sa.String(length=200), nullable=False),
        sa.Column("actor_role", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("from_state", sa.String(length=40), nullable=True),
        sa.Column("to_state", sa.String(length=40), nullable=False),
        sa.Column("fields", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("previous_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_transitions_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_transitions")),
        sa.UniqueConstraint("application_id", "sequence", name="uq_transition_seq"),
    )
    op.create_index(
        op.f("ix_application_transitions_application_id"),
        "application_transitions",
        ["application_id"],
        unique=False,
    )
    op.create_table(
        "committee_agenda",
        sa.Column("session_id", sa.UUID(), nullable=False),
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_committee_agenda_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["committee_sessions.id"],
            name=op.f("fk_committee_agenda_session_id_committee_sessions"),
        ),
        sa.PrimaryKeyConstraint("session_id", "application_id", name=op.f("pk_committee_agenda")),
    )
    op.create_table(
        "committee_decisions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("session_id", sa.UUID(), nullable=False),
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("deliberation_number", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("votes_for", sa.Integer(), nullable=False),
        sa.Column("votes_against", sa.Integer(), nullable=False),
        sa.Column("abstentions", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(outcome = 'approved') = (amount_cents IS NOT NULL AND amount_cents > 0)",
            name=op.f("ck_committee_decisions_amount_iff_approved"),
        ),
        sa.CheckConstraint(
            "outcome = 'adjourned' OR deliberation_number IS NOT NULL",
            name=op.f("ck_committee_decisions_deliberation_number"),
        ),
        sa.CheckConstraint(
            "outcome = 'approved' OR length(btrim(coalesce(reason, ''))) > 0",
            name=op.f("ck_committee_decisions_reason_unless_approved"),
        ),
        sa.CheckConstraint(
            "outcome IN ('approved', 'rejected', 'adjourned')",
            name=op.f("ck_committee_decisions_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_committee_decisions_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["committee_sessions.id"],
            name=op.f("fk_committee_decisions_session_id_committee_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_committee_decisions")),
        sa.UniqueConstraint(
            "deliberation_number", name=op.f("uq_committee_decisions_deliberation_number")
        ),
        sa.UniqueConstraint("session_id", "application_id", name="uq_decision_once"),
    )
    op.create_index(
        op.f("ix_committee_decisions_application_id"),
        "committee_decisions",
        ["application_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_committee_decisions_session_id"),
        "committee_decisions",
        ["session_id"],
        unique=False,
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_documents_sha256_hex")),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_documents_size")),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_documents_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    op.create_index(
        op.f("ix_documents_application_id"), "documents", ["application_id"], unique=False
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("author_client_id", sa.String(length=200), nullable=False),
        sa.Column("author_role", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_messages_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    op.create_index(
        op.f("ix_messages_application_id"), "messages", ["application_id"], unique=False
    )
    op.create_table(
        "opinions",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("expert", sa.String(length=200), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("author_client_id", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "verdict IN ('favourable', 'unfavourable', 'reserved')",
            name=op.f("ck_opinions_verdict"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_opinions_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opinions")),
    )
    op.create_index(
        op.f("ix_opinions_application_id"), "opinions", ["application_id"], unique=False
    )
    op.create_table(
        "tranches",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("payable_when", sa.String(length=40), nullable=False),
        sa.Column("report_number", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("payable_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("order_id", sa.UUID(), nullable=True),
        sa.Column("payment_mode", sa.String(length=30), nullable=True),
        sa.Column("currency_code", sa.String(length=20), nullable=True),
        sa.Column("beneficiary_account_id", sa.String(length=100), nullable=True),
        sa.Column("funding_account_id", sa.String(length=100), nullable=True),
        sa.Column("ordered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("transaction_id", sa.String(length=100), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status <> 'failed' OR failure_reason IS NOT NULL",
            name=op.f("ck_tranches_failed_reason"),
        ),
        sa.CheckConstraint(
            "status = 'scheduled' OR (order_id IS NOT NULL AND payment_mode IS NOT NULL)",
            name=op.f("ck_tranches_ordered_has_order"),
        ),
        sa.CheckConstraint(
            "status IN ('scheduled', 'ordered', 'paid', 'failed')",
            name=op.f("ck_tranches_status_known"),
        ),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_tranches_amount_positive")),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_tranches_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tranches")),
        sa.UniqueConstraint("application_id", "number", name="uq_tranche_number"),
        sa.UniqueConstraint("order_id", name=op.f("uq_tranches_order_id")),
    )
    op.create_index(
        op.f("ix_tranches_application_id"), "tranches", ["application_id"], unique=False
    )
    for statement in _TRIGGERS:
        op.execute(statement)


_TRIGGERS = (
    """
    CREATE FUNCTION funding_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'check_violation';
    END $$
    """,
    """
    CREATE TRIGGER application_transitions_append_only
    BEFORE UPDATE OR DELETE ON application_transitions
    FOR EACH ROW EXECUTE FUNCTION funding_refuse_change()
    """,
    """
    CREATE TRIGGER application_transitions_no_truncate
    BEFORE TRUNCATE ON application_transitions
    FOR EACH STATEMENT EXECUTE FUNCTION funding_refuse_change()
    """,
    """
    CREATE FUNCTION funding_refuse_conflicted_vote() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (
            SELECT 1 FROM committee_conflicts c
            WHERE c.session_id = NEW.session_id
              AND c.application_id = NEW.application_id
              AND c.member_id = NEW.member_id
        ) THEN
            RAISE EXCEPTION 'member % declared a conflict of interest on %',
                NEW.member_id, NEW.application_id USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER committee_votes_no_conflict
    BEFORE INSERT OR UPDATE ON committee_votes
    FOR EACH ROW EXECUTE FUNCTION funding_refuse_conflicted_vote()
    """,
)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS committee_votes_no_conflict ON committee_votes")
    op.execute("DROP FUNCTION IF EXISTS funding_refuse_conflicted_vote()")
    op.execute(
        "DROP TRIGGER IF EXISTS application_transitions_append_only ON application_transitions"
    )
    op.execute(
        "DROP TRIGGER IF EXISTS application_transitions_no_truncate ON application_transitions"
    )
    op.execute("DROP FUNCTION IF EXISTS funding_refuse_change()")
    for table in (
        "tranches",
        "opinions",
        "messages",
        "documents",
        "committee_decisions",
        "committee_agenda",
        "committee_votes",
        "committee_members",
        "committee_conflicts",
        "application_transitions",
        "annotations",
        "applications",
        "committee_sessions",
        "calls",
        "envelopes",
        "programmes",
        "accompanists",
    ):
        op.drop_table(table)
